//! Layouts that need no neural network: grids, and the layouts metadata gives ([`metadata`]).
//!
//! Every layout is normalised the same way (see `docs/bundle.md`): centred on the origin, with
//! its largest extent spanning -1..1, so a viewer can frame any layout with one camera distance.

pub mod metadata;
pub mod spread;

/// Images in id order on a square grid, row by row from the top left ("alphabetic" when ids are
/// sorted by filename, as pixfly assigns them).
pub fn grid(count: usize) -> Vec<[f32; 3]> {
    normalise(cells(count))
}

/// `count` cells of a square grid, one unit apart, row-major from (0, 0) with rows going down.
pub(crate) fn cells(count: usize) -> Vec<[f32; 3]> {
    let columns = (count as f64).sqrt().ceil().max(1.0) as usize;
    (0..count).map(|i| [(i % columns) as f32, -((i / columns) as f32), 0.0]).collect()
}

/// `positions` (a 2D layout) snapped onto the same square grid as [`grid`], one image per cell,
/// so that neighbours stay neighbours (see [`snap_order`]).
pub fn snap_to_grid(positions: &[[f32; 3]]) -> Vec<[f32; 3]> {
    let grid = grid(positions.len());
    snap_order(positions).into_iter().map(|cell| grid[cell]).collect()
}

/// For each position, the row-major cell of a square grid of `positions.len()` cells it is
/// snapped to (see [`assign`]).
pub(crate) fn snap_order(positions: &[[f32; 3]]) -> Vec<usize> {
    assign(positions, &cells(positions.len()), 2)
}

/// For each of `points`, the index of the one of `cells` (as many as the points) it is placed
/// in, so that neighbours stay neighbours. Cells and points are split in two by the same count
/// along the longest side of the cells' extent, again and again (a balanced k-d tree over both,
/// in the first `dims` axes): O(n log² n), and good enough at a million images where an exact
/// assignment solver is not.
pub(crate) fn assign(points: &[[f32; 3]], cells: &[[f32; 3]], dims: usize) -> Vec<usize> {
    assert_eq!(points.len(), cells.len(), "one cell per point");
    let mut order = vec![0; points.len()];
    let mut images: Vec<usize> = (0..points.len()).collect();
    let mut cell_ids: Vec<usize> = (0..cells.len()).collect();
    split(&mut images, &mut cell_ids, points, cells, dims, &mut order);
    order
}

fn split(
    images: &mut [usize],
    cells: &mut [usize],
    positions: &[[f32; 3]],
    grid: &[[f32; 3]],
    dims: usize,
    out: &mut [usize],
) {
    if images.len() <= 1 {
        if let (Some(&image), Some(&cell)) = (images.first(), cells.first()) {
            out[image] = cell;
        }
        return;
    }
    let extent = |axis: usize| {
        let (lo, hi) = cells.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &c| {
            (lo.min(grid[c][axis]), hi.max(grid[c][axis]))
        });
        hi - lo
    };
    let axis = (0..dims).fold(0, |best, a| if extent(a) > extent(best) { a } else { best });
    // Along the axis, then the others in turn, so that ties split the same way for both.
    let by = |a: &[f32; 3], b: &[f32; 3]| {
        (0..dims)
            .map(|k| (axis + k) % dims)
            .fold(std::cmp::Ordering::Equal, |o, k| o.then(a[k].total_cmp(&b[k])))
    };
    let half = images.len() / 2;
    cells.sort_by(|&a, &b| by(&grid[a], &grid[b]));
    images.select_nth_unstable_by(half, |&a, &b| by(&positions[a], &positions[b]));
    let (images_low, images_high) = images.split_at_mut(half);
    let (cells_low, cells_high) = cells.split_at_mut(half);
    split(images_low, cells_low, positions, grid, dims, out);
    split(images_high, cells_high, positions, grid, dims, out);
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
    fn snapping_fills_the_grid_once_and_keeps_order() {
        // Points on a diagonal line, shuffled: the grid keeps their order along it.
        let n = 50;
        let positions: Vec<[f32; 3]> =
            (0..n).map(|i| ((i * 17) % n) as f32).map(|t| [t, t * 0.5 + (t * 3.0).sin(), 0.0]).collect();
        let snapped = snap_to_grid(&positions);
        let mut cells: Vec<_> = snapped.iter().map(|p| p.map(f32::to_bits)).collect();
        cells.sort();
        let mut expected: Vec<_> = grid(n).iter().map(|p| p.map(f32::to_bits)).collect();
        expected.sort();
        assert_eq!(cells, expected, "every cell used exactly once");
        // The first and last points along the line end up in opposite corners.
        let first = (0..n).min_by(|&a, &b| positions[a][0].total_cmp(&positions[b][0])).unwrap();
        let last = (0..n).max_by(|&a, &b| positions[a][0].total_cmp(&positions[b][0])).unwrap();
        assert!(snapped[first][0] < -0.5 && snapped[first][1] < 0.0, "{:?}", snapped[first]);
        assert!(snapped[last][0] > 0.5 && snapped[last][1] > 0.0, "{:?}", snapped[last]);
        assert!(snap_to_grid(&[]).is_empty());
        assert_eq!(snap_to_grid(&[[5.0, 5.0, 0.0]]), vec![[0.0, 0.0, 0.0]]);
    }

    #[test]
    fn one_image_sits_at_the_origin() {
        assert_eq!(grid(1), vec![[0.0, 0.0, 0.0]]);
        assert!(grid(0).is_empty());
    }
}
