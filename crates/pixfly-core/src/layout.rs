//! Layouts that need no neural network.
//!
//! Every layout is normalised the same way (see `docs/bundle.md`): centred on the origin, with
//! its largest extent spanning -1..1, so a viewer can frame any layout with one camera distance.

/// Images in id order on a square grid, row by row from the top left ("alphabetic" when ids are
/// sorted by filename, as pixfly assigns them).
pub fn grid(count: usize) -> Vec<[f32; 3]> {
    let columns = (count as f64).sqrt().ceil().max(1.0) as usize;
    let positions = (0..count).map(|i| [(i % columns) as f32, -((i / columns) as f32), 0.0]).collect();
    normalise(positions)
}

/// Centre positions on the origin and scale the largest extent to span -1..1.
pub fn normalise(mut positions: Vec<[f32; 3]>) -> Vec<[f32; 3]> {
    if positions.is_empty() {
        return positions;
    }
    let mut lo = [f32::INFINITY; 3];
    let mut hi = [f32::NEG_INFINITY; 3];
    for p in &positions {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let extent = (0..3).map(|k| hi[k] - lo[k]).fold(0.0f32, f32::max);
    let scale = if extent > 0.0 { 2.0 / extent } else { 1.0 };
    for p in &mut positions {
        for k in 0..3 {
            p[k] = (p[k] - (lo[k] + hi[k]) / 2.0) * scale;
        }
    }
    positions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_is_square_centred_and_normalised() {
        let g = grid(10); // 4 columns, 3 rows
        assert_eq!(g.len(), 10);
        assert_eq!(g[0], [-1.0, 2.0 / 3.0, 0.0]);
        assert_eq!(g[3], [1.0, 2.0 / 3.0, 0.0]);
        assert_eq!(g[9], [-1.0 / 3.0, -2.0 / 3.0, 0.0]);
    }

    #[test]
    fn one_image_sits_at_the_origin() {
        assert_eq!(grid(1), vec![[0.0, 0.0, 0.0]]);
        assert!(grid(0).is_empty());
    }
}
