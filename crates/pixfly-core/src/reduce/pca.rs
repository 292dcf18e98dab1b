//! Principal component analysis: the exact covariance eigendecomposition (faer), which for the
//! widths we meet (≤ 2,048) costs one `n × d × d` matrix product.

use super::Points;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};
use rayon::prelude::*;

/// Rows used to estimate the principal axes.
const SAMPLE: usize = 20_000;

/// The points centred and expressed on their principal axes, strongest first, keeping at most
/// `max_dims` of them. Distances between points are kept (exactly, when nothing is dropped).
pub fn project(points: &Points, max_dims: usize) -> Points {
    let (n, d) = (points.n, points.dims);
    let keep = d.min(max_dims);
    if n == 0 || d == 0 {
        return Points::new(Vec::new(), n, keep);
    }
    let mut mean = vec![0f64; d];
    for row in points.data.chunks_exact(d) {
        mean.iter_mut().zip(row).for_each(|(m, &x)| *m += x as f64);
    }
    let mean: Vec<f32> = mean.iter().map(|m| (m / n as f64) as f32).collect();
    let mut centred = points.data.clone();
    centred.par_chunks_mut(d).for_each(|row| row.iter_mut().zip(&mean).for_each(|(x, m)| *x -= m));
    let x = MatRef::from_row_major_slice(&centred, n, d);

    // The axes come from the covariance of at most SAMPLE rows, evenly spaced: on large
    // collections that estimates them as well as all rows would, at a fraction of the cost.
    let stride = n.div_ceil(SAMPLE);
    let sample = MatRef::from_row_major_slice_with_stride(&centred, n.div_ceil(stride), d, stride * d);
    let mut covariance = Mat::<f32>::zeros(d, d);
    let scale = 1.0 / sample.nrows() as f32;
    matmul(covariance.as_mut(), Accum::Replace, sample.transpose(), sample, scale, Par::rayon(0));
    let covariance = Mat::<f64>::from_fn(d, d, |i, j| covariance[(i, j)] as f64);
    let axes = match covariance.self_adjoint_eigen(Side::Lower) {
        Ok(eigen) => principal_axes(eigen.U(), keep),
        // Not seen in practice (the matrix is symmetric and finite); keeping the first
        // coordinates still gives a usable, if unrotated, layout input.
        Err(_) => Mat::<f32>::from_fn(d, keep, |i, j| if i == j { 1.0 } else { 0.0 }),
    };

    let mut projected = vec![0f32; n * keep];
    let out = MatMut::from_row_major_slice_mut(&mut projected, n, keep);
    matmul(out, Accum::Replace, x, axes.as_ref(), 1.0, Par::rayon(0));
    super::clean_vector_registers(true);
    Points::new(projected, n, keep)
}

/// The `keep` eigenvectors with the largest eigenvalues (faer sorts them ascending), each signed
/// so its largest coefficient is positive: the same data gives the same layout everywhere.
fn principal_axes(vectors: MatRef<'_, f64>, keep: usize) -> Mat<f32> {
    let d = vectors.nrows();
    let mut axes = Mat::<f32>::zeros(d, keep);
    for j in 0..keep {
        let column = vectors.col(d - 1 - j);
        let largest = (0..d).map(|i| column[i]).fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
        let sign = if largest < 0.0 { -1.0 } else { 1.0 };
        for i in 0..d {
            axes[(i, j)] = (sign * column[i]) as f32;
        }
    }
    axes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_long_axis_and_keeps_distances() {
        // Points along the direction (3, 4) / 5 with a little spread across it.
        let data: Vec<f32> = (0..200)
            .flat_map(|i| {
                let t = (i / 2) as f32 - 50.0;
                let s = if i % 2 == 0 { 0.5 } else { -0.5 };
                [3.0 * t / 5.0 - 4.0 * s / 5.0 + 7.0, 4.0 * t / 5.0 + 3.0 * s / 5.0 - 2.0]
            })
            .collect();
        let points = Points::new(data, 200, 2);
        let p = project(&points, 2);
        // The first axis carries the spread along t; the second the ±0.5.
        assert!((p.row(199)[0] - p.row(0)[0]).abs() > 98.0);
        assert!(p.data.chunks(2).all(|r| (r[1].abs() - 0.5).abs() < 1e-3));
        let d = |q: &Points, a: usize, b: usize| {
            q.row(a).iter().zip(q.row(b)).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt()
        };
        assert!((d(&points, 3, 77) - d(&p, 3, 77)).abs() < 1e-3);
        // Dropping the weak axis keeps the strong one.
        let one = project(&points, 1);
        assert_eq!(one.dims, 1);
        assert!((one.row(10)[0] - p.row(10)[0]).abs() < 1e-4);
    }
}
