//! A layout by similarity where every image can be seen: UMAP's shape (its islands, the gaps
//! between them, neighbours together) on a grid with room to spare, one image per cell.
//!
//! UMAP packs similar images tightly by design: in UMAP 2D of the default collection 93 % of
//! the image area lies under other images. Here the layout's box is divided into about `room`
//! times more cells than images. The cells farthest from any image are the gaps: each gets a
//! stand-in, so that it stays empty. Images and stand-ins then take one cell each, assigned by
//! the same balanced k-d split as the similarity grid, so a pile of images opens out into the
//! cells around it while the gaps between groups are kept.

use super::{assign, normalise};
use std::collections::VecDeque;

/// Share of the images, at each end of each axis, treated as far-off: they are brought in to
/// the edge of the box that holds the rest, rather than stretching it.
const OUTLIERS: f64 = 0.005;

/// `positions` (a normalised UMAP layout in the first `dims` axes) spread onto a grid of about
/// `room` × as many cells as images, normalised like every layout. Returns the positions and
/// the side of one cell in the normalised layout's units (the spacing images are drawn at).
pub fn spread(positions: &[[f32; 3]], dims: usize, room: f32) -> (Vec<[f32; 3]>, f32) {
    let n = positions.len();
    if n < 2 {
        return (vec![[0.0; 3]; n], 2.0);
    }
    // The box that holds all but the outermost images, a little wider than they are.
    let mut lo = [0.0f32; 3];
    let mut hi = [0.0f32; 3];
    for axis in 0..dims {
        let mut values: Vec<f32> = positions.iter().map(|p| p[axis]).collect();
        values.sort_unstable_by(f32::total_cmp);
        let trim = (n as f64 * OUTLIERS) as usize;
        let (a, b) = (values[trim], values[n - 1 - trim]);
        let margin = (b - a).max(f32::EPSILON) * 0.02;
        (lo[axis], hi[axis]) = (a - margin, b + margin);
    }
    // Cells per axis in proportion to the box's sides, about `room × n` in all.
    let volume: f64 = (0..dims).map(|a| f64::from(hi[a] - lo[a])).product();
    let side = (volume / (f64::from(room) * n as f64)).powf(1.0 / dims as f64);
    let mut shape = [1usize; 3];
    for axis in 0..dims {
        shape[axis] = ((f64::from(hi[axis] - lo[axis]) / side).round() as usize).max(1);
    }
    while shape.iter().product::<usize>() < n {
        let axis = (0..dims).min_by_key(|&a| shape[a]).expect("dims ≥ 1");
        shape[axis] += 1;
    }
    let cells: Vec<[usize; 3]> = (0..shape[2])
        .flat_map(|z| (0..shape[1]).flat_map(move |y| (0..shape[0]).map(move |x| [x, y, z])))
        .collect();
    let index = |c: [usize; 3]| (c[2] * shape[1] + c[1]) * shape[0] + c[0];
    let cell_of = |p: &[f32; 3]| {
        let mut c = [0usize; 3];
        for axis in 0..dims {
            let t = (p[axis] - lo[axis]) / (hi[axis] - lo[axis]) * shape[axis] as f32;
            c[axis] = (t.max(0.0) as usize).min(shape[axis] - 1);
        }
        c
    };
    // How far each cell is from the nearest image, in steps between neighbouring cells.
    let mut distance = vec![u32::MAX; cells.len()];
    let mut queue = VecDeque::new();
    for p in positions {
        let c = index(cell_of(p));
        if distance[c] == u32::MAX {
            distance[c] = 0;
            queue.push_back(c);
        }
    }
    while let Some(i) = queue.pop_front() {
        let c = cells[i];
        for axis in 0..dims {
            for step in [-1isize, 1] {
                let v = c[axis] as isize + step;
                if v < 0 || v >= shape[axis] as isize {
                    continue;
                }
                let mut next = c;
                next[axis] = v as usize;
                let j = index(next);
                if distance[j] == u32::MAX {
                    distance[j] = distance[i] + 1;
                    queue.push_back(j);
                }
            }
        }
    }
    // The gaps: the cells farthest from any image, one stand-in each, at the cell's centre.
    let mut by_distance: Vec<usize> = (0..cells.len()).collect();
    by_distance.sort_by_key(|&i| std::cmp::Reverse(distance[i]));
    let centre = |c: [usize; 3]| {
        let mut p = [0.0f32; 3];
        for axis in 0..dims {
            p[axis] = lo[axis] + (c[axis] as f32 + 0.5) / shape[axis] as f32 * (hi[axis] - lo[axis]);
        }
        p
    };
    // Far-off images brought in to the box's edge.
    let clamped = positions.iter().map(|p| {
        let mut q = *p;
        for axis in 0..dims {
            q[axis] = q[axis].clamp(lo[axis], hi[axis]);
        }
        q
    });
    let points: Vec<[f32; 3]> =
        clamped.chain(by_distance[..cells.len() - n].iter().map(|&i| centre(cells[i]))).collect();
    let grid: Vec<[f32; 3]> = cells.iter().map(|c| c.map(|v| v as f32)).collect();
    let placed = assign(&points, &grid, dims);
    let spread: Vec<[f32; 3]> = placed[..n].iter().map(|&cell| grid[cell]).collect();
    // One cell is one unit before normalising, which scales the longest extent to 2.
    let extent = (0..dims)
        .map(|a| {
            let (lo, hi) =
                spread.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| (lo.min(p[a]), hi.max(p[a])));
            hi - lo
        })
        .fold(0.0f32, f32::max);
    (normalise(spread), if extent > 0.0 { 2.0 / extent } else { 2.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tight piles of 200 images each, far apart, and two far-off images.
    fn two_piles() -> Vec<[f32; 3]> {
        let mut points = Vec::new();
        for i in 0..400 {
            let angle = i as f32 * 2.399;
            let r = (i % 200) as f32 / 200.0 * 0.01;
            let centre = if i < 200 { -0.5 } else { 0.5 };
            points.push([centre + r * angle.cos(), r * angle.sin(), 0.0]);
        }
        points.push([-1.0, 0.9, 0.0]);
        points.push([1.0, -1.0, 0.0]);
        points
    }

    #[test]
    fn every_image_gets_its_own_cell_and_the_gap_between_piles_stays() {
        let points = two_piles();
        let (spread, cell) = spread(&points, 2, 2.5);
        let mut seen = std::collections::HashSet::new();
        for p in &spread {
            assert!(
                seen.insert(p.map(|v| (2.0 * v / cell).round() as i64)),
                "two images share a cell at {p:?}"
            );
        }
        // The piles stay apart: left pile left of right pile, with empty cells between.
        let max_left = spread[..200].iter().map(|p| p[0]).fold(f32::MIN, f32::max);
        let min_right = spread[200..400].iter().map(|p| p[0]).fold(f32::MAX, f32::min);
        assert!(min_right - max_left > 3.0 * cell, "gap {} cells", (min_right - max_left) / cell);
        // A pile opens out: its 200 images cover about 200 cells, not one.
        let width = spread[..200].iter().map(|p| p[0]).fold(f32::MIN, f32::max)
            - spread[..200].iter().map(|p| p[0]).fold(f32::MAX, f32::min);
        assert!(width > 8.0 * cell, "{}", width / cell);
    }

    #[test]
    fn far_off_images_do_not_shrink_the_rest() {
        let points = two_piles();
        let (spread, _) = spread(&points, 2, 2.5);
        // The piles span most of the layout; the two strays sit at its edge.
        let piles_x = spread[..400].iter().map(|p| p[0]).fold(f32::MIN, f32::max)
            - spread[..400].iter().map(|p| p[0]).fold(f32::MAX, f32::min);
        assert!(piles_x > 1.6, "{piles_x}");
    }

    #[test]
    fn in_3d_too() {
        let points: Vec<[f32; 3]> = (0..500)
            .map(|i| [(i % 2) as f32 * 0.001, ((i / 2) % 5) as f32 * 0.001, (i % 7) as f32])
            .collect();
        let (spread, cell) = spread(&points, 3, 3.0);
        let mut seen = std::collections::HashSet::new();
        assert!(spread.iter().all(|p| seen.insert(p.map(|v| (2.0 * v / cell).round() as i64))));
        assert!(spread.iter().flatten().all(|v| v.is_finite() && v.abs() <= 1.0 + 1e-6));
    }
}
