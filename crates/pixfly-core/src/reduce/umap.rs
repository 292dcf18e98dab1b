//! UMAP (McInnes, Healy & Melville 2018), faithful to umap-learn's defaults and choices: the
//! smooth-kNN fuzzy simplicial set with fuzzy union, `a`/`b` fitted from `min_dist` and
//! `spread`, spectral initialisation, and epoch-scheduled SGD with negative sampling.
//!
//! One deliberate difference makes the parallel SGD reproducible: every point moves only itself
//! (never its neighbour), against the other points' positions as they were when a half-sweep
//! began. umap-learn moves both ends of an edge and meets every edge from both ends, so each
//! epoch here is two half-sweeps: a pull along each due edge, then a second pull towards where
//! the first took the neighbours, each with half of the negative samples (see `Sgd::pull_block`).

use super::knn::Neighbours;
use super::{Points, Rng};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};
use rayon::prelude::*;
use wide::{f32x4, i32x4};

/// UMAP's parameters, with umap-learn's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct UmapOptions {
    /// Neighbours per point, counting the point itself (umap-learn's convention).
    pub n_neighbors: usize,
    /// How tightly points may pack: small values give clumpy clusters, large ones even spreads.
    pub min_dist: f32,
    pub spread: f32,
    /// Default: 500 up to 10,000 points, 200 beyond.
    pub n_epochs: Option<usize>,
    pub negative_sample_rate: usize,
    pub repulsion_strength: f32,
    pub learning_rate: f32,
    pub init: Init,
    pub seed: u64,
}

impl Default for UmapOptions {
    fn default() -> UmapOptions {
        UmapOptions {
            n_neighbors: 15,
            min_dist: 0.1,
            spread: 1.0,
            n_epochs: None,
            negative_sample_rate: 5,
            repulsion_strength: 1.0,
            learning_rate: 1.0,
            init: Init::Spectral,
            seed: 42,
        }
    }
}

impl UmapOptions {
    /// SGD epochs for `n` points: `n_epochs`, or umap-learn's default.
    pub fn epochs(&self, n: usize) -> usize {
        self.n_epochs.unwrap_or(if n <= 10_000 { 500 } else { 200 })
    }
}

/// Where the optimisation starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// The graph Laplacian's leading eigenvectors (falls back to PCA when the graph is not
    /// connected).
    Spectral,
    /// The first principal components.
    Pca,
}

/// The fuzzy simplicial set: a symmetric weighted graph in CSR form, without self-loops.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub offsets: Vec<usize>,
    pub targets: Vec<u32>,
    pub weights: Vec<f32>,
}

impl Graph {
    pub fn n(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let r = self.offsets[i]..self.offsets[i + 1];
        (&self.targets[r.clone()], &self.weights[r])
    }
}

/// The fuzzy union of every point's local fuzzy neighbourhood (umap-learn's
/// `fuzzy_simplicial_set` with `local_connectivity = 1`, `set_op_mix_ratio = 1`).
pub fn fuzzy_graph(neighbours: &Neighbours) -> Graph {
    let n = neighbours.n;
    let k = neighbours.k;
    if k == 0 {
        return Graph { offsets: vec![0; n + 1], targets: Vec::new(), weights: Vec::new() };
    }
    super::clean_vector_registers(true);
    let target = ((k + 1) as f32).log2();
    let memberships: Vec<f32> = (0..n)
        .into_par_iter()
        .flat_map_iter(|i| {
            let (_, distances) = neighbours.of(i);
            let (rho, sigma) = smooth_knn(distances, target);
            distances
                .iter()
                .map(move |&d| if d - rho <= 0.0 || sigma == 0.0 { 1.0 } else { (-(d - rho) / sigma).exp() })
        })
        .collect();

    // Each directed edge i → j with weight w, seen from both ends; then merged per row.
    let mut degree = vec![0usize; n + 1];
    for (i, &j) in neighbours.indices.iter().enumerate() {
        degree[i / k] += 1;
        degree[j as usize] += 1;
    }
    let mut offsets = vec![0usize; n + 1];
    for i in 0..n {
        offsets[i + 1] = offsets[i] + degree[i];
    }
    let mut fill = offsets.clone();
    let mut entries = vec![(0u32, 0f32); offsets[n]];
    for (e, (&j, &w)) in neighbours.indices.iter().zip(&memberships).enumerate() {
        let i = e / k;
        entries[fill[i]] = (j, w);
        fill[i] += 1;
        entries[fill[j as usize]] = (i as u32, w);
        fill[j as usize] += 1;
    }
    let rows: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut row = entries[offsets[i]..offsets[i + 1]].to_vec();
            row.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            let mut merged: Vec<(u32, f32)> = Vec::with_capacity(row.len());
            for (j, w) in row {
                match merged.last_mut() {
                    // Both i → j and j → i: probabilistic t-conorm a + b − ab.
                    Some(last) if last.0 == j => last.1 = last.1 + w - last.1 * w,
                    _ => merged.push((j, w)),
                }
            }
            merged.retain(|&(j, w)| w > 0.0 && j as usize != i);
            merged
        })
        .collect();
    let mut graph = Graph { offsets: vec![0], targets: Vec::new(), weights: Vec::new() };
    for row in rows {
        graph.targets.extend(row.iter().map(|e| e.0));
        graph.weights.extend(row.iter().map(|e| e.1));
        graph.offsets.push(graph.targets.len());
    }
    graph
}

/// ρ (distance to the nearest neighbour) and σ such that Σ exp(−(d − ρ)/σ) = log2(k + 1),
/// found by bisection as umap-learn's `smooth_knn_dist` does.
fn smooth_knn(distances: &[f32], target: f32) -> (f32, f32) {
    let rho = distances.iter().copied().find(|&d| d > 0.0).unwrap_or(0.0);
    let (mut lo, mut hi, mut mid) = (0.0f32, f32::INFINITY, 1.0f32);
    for _ in 0..64 {
        let sum: f32 =
            distances.iter().map(|&d| if d - rho > 0.0 { (-(d - rho) / mid).exp() } else { 1.0 }).sum();
        if (sum - target).abs() < 1e-5 {
            break;
        }
        if sum > target {
            hi = mid;
            mid = (lo + hi) / 2.0;
        } else {
            lo = mid;
            mid = if hi.is_infinite() { mid * 2.0 } else { (lo + hi) / 2.0 };
        }
    }
    let mean = distances.iter().sum::<f32>() / distances.len().max(1) as f32;
    (rho, mid.max(1e-3 * mean))
}

/// umap-learn's `find_ab_params`: fit 1 / (1 + a d^2b) to the curve that is 1 up to `min_dist`
/// and decays as exp(−(d − min_dist) / spread) beyond, by least squares (Levenberg–Marquardt).
pub fn find_ab(spread: f32, min_dist: f32) -> (f32, f32) {
    let xs: Vec<f64> = (0..300).map(|i| 3.0 * spread as f64 * i as f64 / 299.0).collect();
    let ys: Vec<f64> = xs
        .iter()
        .map(|&x| if x < min_dist as f64 { 1.0 } else { (-(x - min_dist as f64) / spread as f64).exp() })
        .collect();
    let cost = |a: f64, b: f64| -> f64 {
        xs.iter().zip(&ys).map(|(&x, &y)| (1.0 / (1.0 + a * x.powf(2.0 * b)) - y).powi(2)).sum()
    };
    let (mut a, mut b, mut lambda) = (1.0f64, 1.0f64, 1e-3f64);
    for _ in 0..200 {
        // Normal equations J^T J δ = −J^T r for the two parameters.
        let (mut jaa, mut jab, mut jbb, mut ga, mut gb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&x, &y) in xs.iter().zip(&ys) {
            if x <= 0.0 {
                continue;
            }
            let u = x.powf(2.0 * b);
            let f = 1.0 / (1.0 + a * u);
            let (da, db) = (-u * f * f, -a * u * 2.0 * x.ln() * f * f);
            let r = f - y;
            jaa += da * da;
            jab += da * db;
            jbb += db * db;
            ga += da * r;
            gb += db * r;
        }
        let (paa, pbb) = (jaa * (1.0 + lambda), jbb * (1.0 + lambda));
        let det = paa * pbb - jab * jab;
        if det.abs() < 1e-300 {
            break;
        }
        let step_a = -(pbb * ga - jab * gb) / det;
        let step_b = -(paa * gb - jab * ga) / det;
        if cost(a + step_a, b + step_b) < cost(a, b) {
            a += step_a;
            b += step_b;
            lambda /= 10.0;
            if step_a.abs() < 1e-10 && step_b.abs() < 1e-10 {
                break;
            }
        } else {
            lambda *= 10.0;
        }
    }
    (a as f32, b as f32)
}

/// Lay the graph out in `dims` dimensions; `points` (from [`super::prepare`]) are used only for a
/// PCA start. Returns `n × dims` coordinates. `progress(done, total, positions)` is called after each epoch.
pub fn layout(
    graph: &Graph,
    points: &Points,
    dims: usize,
    options: &UmapOptions,
    progress: &(dyn Fn(usize, usize, &[f32]) + Sync),
) -> Vec<f32> {
    let n = graph.n();
    if n <= 1 {
        return vec![0.0; n * dims];
    }
    let start = initial_layout(graph, points, dims, options);
    layout_from(graph, start, dims, options, progress)
}

/// [`layout`] from the given start (`n × dims`, of any scale: brought into the 10-wide box the
/// SGD's step sizes are made for, as umap-learn does with a start it is given). For comparing
/// stages with umap-learn's (bench/umap_ablation.py).
pub fn layout_from(
    graph: &Graph,
    mut positions: Vec<f32>,
    dims: usize,
    options: &UmapOptions,
    progress: &(dyn Fn(usize, usize, &[f32]) + Sync),
) -> Vec<f32> {
    let n = graph.n();
    assert_eq!(positions.len(), n * dims, "a start of n × dims coordinates");
    if n <= 1 {
        return vec![0.0; n * dims];
    }
    let epochs = options.epochs(n);
    into_box(&mut positions, dims, options.seed);
    match dims {
        2 => optimise::<2>(graph, &mut positions, epochs, options, progress),
        3 => optimise::<3>(graph, &mut positions, epochs, options, progress),
        _ => panic!("UMAP layouts are 2D or 3D, not {dims}D"),
    }
    positions
}

/// Place new points into a finished layout without moving the old ones, as umap-learn's
/// `transform` does. `fitted` holds the old points' coordinates (`dims` per point, as
/// [`layout`] returned them). `among_old` lists each new point's nearest old points (indices
/// into `fitted`): it starts at their mean weighted by smooth-kNN memberships. `among_all`
/// lists its nearest points old or new (`old + q` for new point `q`): SGD then moves only the
/// new points, pulled towards those neighbours and pushed from random old points, for a third
/// of the fit's epochs (100 up to 10,000 new points, 30 beyond) at a quarter of the learning
/// rate. Unlike umap-learn's, new points also pull on each other: a whole new kind of image,
/// added at once, gathers in a group of its own rather than scattering among its nearest old
/// images. Within an epoch each new point moves against the others' positions as the epoch
/// began, so the result does not depend on the threads.
pub fn transform(
    fitted: &[f32],
    dims: usize,
    among_old: &Neighbours,
    among_all: &Neighbours,
    options: &UmapOptions,
) -> Vec<f32> {
    let old = fitted.len() / dims.max(1);
    let new = among_old.n;
    if new == 0 || among_old.k == 0 || old == 0 {
        return vec![0.0; new * dims];
    }
    let memberships = |neighbours: &Neighbours| -> Vec<Vec<f32>> {
        let target = (neighbours.k as f32).log2();
        (0..neighbours.n)
            .map(|i| {
                let (_, distances) = neighbours.of(i);
                let (rho, sigma) = smooth_knn(distances, target);
                distances
                    .iter()
                    .map(|&d| if d - rho <= 0.0 { 1.0 } else { (-(d - rho) / sigma).exp() })
                    .collect()
            })
            .collect()
    };
    let at = |j: u32| &fitted[j as usize * dims..(j as usize + 1) * dims];
    let start = memberships(among_old);
    let mut current: Vec<f32> = (0..new)
        .flat_map(|q| {
            let (targets, _) = among_old.of(q);
            let total: f32 = start[q].iter().sum();
            (0..dims)
                .map(|d| {
                    let sum: f32 = targets.iter().zip(&start[q]).map(|(&j, &w)| at(j)[d] * w).sum();
                    sum / total.max(1e-12)
                })
                .collect::<Vec<f32>>()
        })
        .collect();
    let epochs = match options.n_epochs {
        Some(n) => (n / 3).max(1),
        None if new <= 10_000 => 100,
        None => 30,
    };
    let (a, b) = find_ab(options.spread, options.min_dist);
    let weights = memberships(among_all);
    let max_weight = weights.iter().flatten().copied().fold(0.0f32, f32::max);
    // Edges too weak to be sampled once are dropped, as in the fit.
    let per_sample: Vec<Vec<f32>> =
        weights
            .iter()
            .map(|row| {
                row.iter()
                    .map(|&w| {
                        if w >= max_weight / epochs as f32 && w > 0.0 {
                            max_weight / w
                        } else {
                            f32::INFINITY
                        }
                    })
                    .collect()
            })
            .collect();
    let rate = options.negative_sample_rate as f32;
    let mut schedules: Vec<(Vec<f32>, Vec<f32>)> =
        per_sample.iter().map(|row| (row.clone(), row.iter().map(|e| e / rate).collect())).collect();
    let clip = |g: f32| g.clamp(-4.0, 4.0);
    for epoch in 0..epochs {
        let alpha = options.learning_rate / 4.0 * (1.0 - epoch as f32 / epochs as f32);
        let now = epoch as f32;
        let previous = current.clone();
        let position = |j: u32| -> &[f32] {
            let j = j as usize;
            if j < old {
                &fitted[j * dims..(j + 1) * dims]
            } else {
                &previous[(j - old) * dims..(j - old + 1) * dims]
            }
        };
        current.par_chunks_mut(dims).zip(schedules.par_iter_mut()).enumerate().for_each(
            |(q, (me, (next_sample, next_negative)))| {
                let mut rng = Rng::derive(options.seed, 5 + epoch as u64, q as u64);
                let (targets, _) = among_all.of(q);
                for (e, &j) in targets.iter().enumerate() {
                    if next_sample[e] > now {
                        continue;
                    }
                    let other = position(j);
                    let d2: f32 = (0..dims).map(|d| (me[d] - other[d]).powi(2)).sum();
                    if d2 > 0.0 {
                        let coefficient = -2.0 * a * b * d2.powf(b - 1.0) / (a * d2.powf(b) + 1.0);
                        for d in 0..dims {
                            me[d] += clip(coefficient * (me[d] - other[d])) * alpha;
                        }
                    }
                    next_sample[e] += per_sample[q][e];
                    let per_negative = per_sample[q][e] / rate;
                    let count = ((now - next_negative[e]) / per_negative).max(0.0) as usize;
                    for _ in 0..count {
                        let other = at(rng.below(old) as u32);
                        let d2: f32 = (0..dims).map(|d| (me[d] - other[d]).powi(2)).sum();
                        if d2 <= 0.0 {
                            continue;
                        }
                        let coefficient =
                            2.0 * options.repulsion_strength * b / ((0.001 + d2) * (a * d2.powf(b) + 1.0));
                        for d in 0..dims {
                            me[d] += clip(coefficient * (me[d] - other[d])) * alpha;
                        }
                    }
                    next_negative[e] += count as f32 * per_negative;
                }
            },
        );
    }
    current
}

/// Where the SGD starts, before it is scaled: spectral (per component when the graph is not
/// connected) or the first principal components.
pub fn initial_layout(graph: &Graph, points: &Points, dims: usize, options: &UmapOptions) -> Vec<f32> {
    let n = graph.n();
    let spectral = match options.init {
        Init::Spectral => match component_labels(graph) {
            (1, _) => spectral_layout(graph, dims, options.seed),
            (count, labels) => component_layout(graph, points, dims, count, &labels, options.seed),
        },
        Init::Pca => None,
    };
    spectral.unwrap_or_else(|| {
        (0..n)
            .flat_map(|i| (0..dims).map(move |d| if d < points.dims { points.row(i)[d] } else { 0.0 }))
            .collect()
    })
}

/// The start scaled like umap-learn's: each axis spans 0..10, with a little noise so that
/// identical points can separate.
fn into_box(positions: &mut [f32], dims: usize, seed: u64) {
    let n = positions.len() / dims;
    let mut rng = Rng::derive(seed, 4, dims as u64);
    for d in 0..dims {
        let column = positions.iter().skip(d).step_by(dims);
        let (lo, hi) = column.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let scale = if hi > lo { 10.0 / (hi - lo) } else { 0.0 };
        for i in 0..n {
            let x = &mut positions[i * dims + d];
            *x = (*x - lo) * scale + 1e-4 * rng.normal() as f32 * 10.0;
        }
    }
}

/// The leading nontrivial eigenvectors of the normalised adjacency D^-½ W D^-½ (the smallest of
/// the normalised Laplacian), by Lanczos with full reorthogonalisation, of a connected graph
/// (one component: its callers know). `None` when the graph is too small.
fn spectral_layout(graph: &Graph, dims: usize, seed: u64) -> Option<Vec<f32>> {
    let n = graph.n();
    if n < dims + 2 {
        return None;
    }
    let degree: Vec<f64> = (0..n).map(|i| graph.row(i).1.iter().map(|&w| w as f64).sum()).collect();
    let inv_sqrt: Vec<f64> = degree.iter().map(|d| 1.0 / d.sqrt()).collect();
    // The trivial eigenvector (eigenvalue 1), projected out of everything.
    let mut trivial: Vec<f64> = degree.iter().map(|d| d.sqrt()).collect();
    normalise(&mut trivial);
    let apply = |v: &[f64], out: &mut Vec<f64>| {
        out.par_iter_mut().enumerate().for_each(|(i, o)| {
            let (targets, weights) = graph.row(i);
            let s: f64 = targets
                .iter()
                .zip(weights)
                .map(|(&j, &w)| w as f64 * inv_sqrt[j as usize] * v[j as usize])
                .sum();
            *o = s * inv_sqrt[i];
        })
    };

    let steps = (n - 1).min(120.max(10 * dims));
    // The Krylov basis, one column per step; reorthogonalised in full against all earlier
    // columns (twice: "twice is enough") with matrix–vector products.
    let mut basis = Mat::<f64>::zeros(n, steps);
    let mut rng = Rng::derive(seed, 5, 0);
    let mut w: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    project_out(&mut w, MatRef::from_column_major_slice(&trivial, n, 1));
    normalise(&mut w);
    basis.col_as_slice_mut(0).copy_from_slice(&w);
    let (mut alpha, mut beta) = (Vec::new(), Vec::new());
    let mut ritz = None;
    for j in 0..steps {
        apply(basis.col_as_slice(j), &mut w);
        alpha.push(dot(&w, basis.col_as_slice(j)));
        project_out(&mut w, MatRef::from_column_major_slice(&trivial, n, 1));
        for _ in 0..2 {
            project_out(&mut w, basis.as_ref().subcols(0, j + 1));
        }
        let b = dot(&w, &w).sqrt();
        let size = j + 1;
        let check = size >= dims && (size % 5 == 0 || size == steps || b < 1e-9);
        if check {
            let (values, vectors) = tridiagonal_eigen(&alpha, &beta);
            let top: Vec<usize> = (0..dims).map(|t| size - 1 - t).collect();
            let converged =
                top.iter().all(|&c| (b * vectors[(size - 1, c)]).abs() < 1e-4 * values[c].abs().max(1e-3));
            ritz = Some((vectors, top));
            if converged || b < 1e-9 || size == steps {
                tracing::debug!(steps = size, converged, "spectral initialisation");
                break;
            }
        }
        beta.push(b);
        w.iter_mut().for_each(|x| *x /= b);
        basis.col_as_slice_mut(j + 1).copy_from_slice(&w);
    }
    let (vectors, top) = ritz?;
    // Ritz vectors: basis × the tridiagonal matrix's eigenvectors.
    let size = vectors.nrows();
    let chosen = Mat::<f64>::from_fn(size, dims, |r, d| vectors[(r, top[d])]);
    let mut coordinates = Mat::<f64>::zeros(n, dims);
    matmul(
        coordinates.as_mut(),
        Accum::Replace,
        basis.as_ref().subcols(0, size),
        chosen.as_ref(),
        1.0,
        Par::rayon(0),
    );
    super::clean_vector_registers(true);
    let positions: Vec<f32> = (0..n)
        .flat_map(|i| (0..dims).map(move |d| (i, d)))
        .map(|(i, d)| coordinates[(i, d)] as f32)
        .collect();
    positions.iter().all(|x| x.is_finite()).then_some(positions)
}

/// Remove from `w` its components along the orthonormal columns of `basis`: w −= B (Bᵀ w).
fn project_out(w: &mut [f64], basis: MatRef<'_, f64>) {
    let n = w.len();
    let mut coefficients = Mat::<f64>::zeros(basis.ncols(), 1);
    matmul(
        coefficients.as_mut(),
        Accum::Replace,
        basis.transpose(),
        MatRef::from_column_major_slice(w, n, 1),
        1.0,
        Par::rayon(0),
    );
    matmul(
        MatMut::from_column_major_slice_mut(w, n, 1),
        Accum::Add,
        basis,
        coefficients.as_ref(),
        -1.0,
        Par::rayon(0),
    );
    super::clean_vector_registers(false);
}

/// Eigenvalues (ascending) and eigenvectors of the symmetric tridiagonal matrix with diagonal
/// `alpha` and off-diagonal `beta`.
fn tridiagonal_eigen(alpha: &[f64], beta: &[f64]) -> (Vec<f64>, Mat<f64>) {
    let m = alpha.len();
    let t = Mat::<f64>::from_fn(m, m, |i, j| {
        if i == j {
            alpha[i]
        } else if i == j + 1 {
            beta[j]
        } else if j == i + 1 {
            beta[i]
        } else {
            0.0
        }
    });
    match t.self_adjoint_eigen(Side::Lower) {
        Ok(e) => ((0..m).map(|i| e.S()[i]).collect(), e.U().to_owned()),
        Err(_) => (vec![0.0; m], Mat::zeros(m, m)),
    }
}

/// Dot product in fixed-size chunks, summed in order: the same result on every run.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let partial: Vec<f64> = a
        .par_chunks(8192)
        .zip(b.par_chunks(8192))
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum())
        .collect();
    partial.iter().sum()
}

fn normalise(v: &mut [f64]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The number of connected components and each vertex's component, numbered from 0 in order
/// of their first vertex (union–find).
fn component_labels(graph: &Graph) -> (usize, Vec<u32>) {
    let n = graph.n();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn root(parent: &mut [u32], mut i: u32) -> u32 {
        while parent[i as usize] != i {
            parent[i as usize] = parent[parent[i as usize] as usize];
            i = parent[i as usize];
        }
        i
    }
    for i in 0..n {
        for &j in graph.row(i).0 {
            let (a, b) = (root(&mut parent, i as u32), root(&mut parent, j));
            if a != b {
                parent[a as usize] = b;
            }
        }
    }
    let mut numbers = vec![u32::MAX; n];
    let mut count = 0;
    let labels = (0..n as u32)
        .map(|i| {
            let r = root(&mut parent, i) as usize;
            if numbers[r] == u32::MAX {
                numbers[r] = count;
                count += 1;
            }
            numbers[r]
        })
        .collect();
    (count as usize, labels)
}

/// Above this many components the starting layout is PCA's: the meta-layout below is dense.
const MAX_COMPONENTS: usize = 1_000;

/// The spectral start of a graph in several pieces, as umap-learn's `multi_component_layout`:
/// the components' centroids get a layout of their own (spectral, from their distances; the
/// corners of a cross when there are few), and each component is laid out spectrally (at
/// random when tiny) in the space around its centroid's place, halfway to the nearest other.
/// So the pieces start near each other, in an order that says how alike they are, where PCA
/// would put a few odd images at the end of the world.
fn component_layout(
    graph: &Graph,
    points: &Points,
    dims: usize,
    count: usize,
    labels: &[u32],
    seed: u64,
) -> Option<Vec<f32>> {
    if count > MAX_COMPONENTS {
        return None;
    }
    let n = graph.n();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
    // Each vertex's number within its component, for the components' own graphs.
    let mut within = vec![0u32; n];
    for (i, &c) in labels.iter().enumerate() {
        within[i] = members[c as usize].len() as u32;
        members[c as usize].push(i);
    }
    let meta = meta_layout(points, &members, dims, seed);
    let mut positions = vec![0.0f32; n * dims];
    let mut rng = Rng::derive(seed, 6, dims as u64);
    for (c, ids) in members.iter().enumerate() {
        let centre = &meta[c * dims..(c + 1) * dims];
        let room = (0..count)
            .filter(|&o| o != c)
            .map(|o| (0..dims).map(|d| (meta[o * dims + d] - centre[d]).powi(2)).sum::<f64>().sqrt())
            .fold(f64::INFINITY, f64::min)
            / 2.0;
        let room = if room.is_finite() && room > 0.0 { room } else { 1.0 };
        let own = (ids.len() > dims + 1 && ids.len() >= 2 * dims)
            .then(|| spectral_layout(&subgraph(graph, ids, &within), dims, seed))
            .flatten();
        let extent = own.as_ref().map_or(0.0, |own| own.iter().fold(0.0f32, |m, v| m.max(v.abs())));
        for (k, &i) in ids.iter().enumerate() {
            for d in 0..dims {
                let offset = match &own {
                    Some(own) if extent > 0.0 => f64::from(own[k * dims + d] / extent),
                    _ => 2.0 * rng.unit() - 1.0,
                };
                positions[i * dims + d] = (centre[d] + offset * room) as f32;
            }
        }
    }
    Some(positions)
}

/// Where each component's centroid goes: umap-learn's `component_layout`, within −1..1.
fn meta_layout(points: &Points, members: &[Vec<usize>], dims: usize, seed: u64) -> Vec<f64> {
    let count = members.len();
    if count <= 2 * dims {
        // Few: the ends of the axes, +x, +y, (+z,) −x, −y, ….
        return (0..count)
            .flat_map(|c| {
                (0..dims).map(move |d| if d == c % dims { if c < dims { 1.0 } else { -1.0 } } else { 0.0 })
            })
            .collect();
    }
    let centroids: Vec<Vec<f64>> = members
        .iter()
        .map(|ids| {
            let mut sum = vec![0.0f64; points.dims];
            for &i in ids {
                sum.iter_mut().zip(points.row(i)).for_each(|(s, &x)| *s += f64::from(x));
            }
            sum.iter().map(|s| s / ids.len() as f64).collect()
        })
        .collect();
    let distance = |a: usize, b: usize| {
        centroids[a].iter().zip(&centroids[b]).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
    };
    // umap-learn's affinity exp(−d²), with distances in units of their median so that it
    // neither vanishes nor saturates whatever the vectors' scale.
    let mut all: Vec<f64> =
        (0..count).flat_map(|a| (a + 1..count).map(move |b| (a, b))).map(|(a, b)| distance(a, b)).collect();
    all.sort_unstable_by(f64::total_cmp);
    let unit = all[all.len() / 2].max(f64::MIN_POSITIVE);
    let mut offsets = vec![0];
    let (mut targets, mut weights) = (Vec::new(), Vec::new());
    for a in 0..count {
        for b in (0..count).filter(|&b| b != a) {
            targets.push(b as u32);
            weights.push(((-(distance(a, b) / unit).powi(2)).exp() as f32).max(1e-12));
        }
        offsets.push(targets.len());
    }
    let dense = Graph { offsets, targets, weights };
    let layout = spectral_layout(&dense, dims, seed).unwrap_or_else(|| {
        let mut rng = Rng::derive(seed, 7, dims as u64);
        (0..count * dims).map(|_| 2.0 * rng.unit() as f32 - 1.0).collect()
    });
    let extent = layout.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(f32::MIN_POSITIVE);
    layout.iter().map(|&v| f64::from(v / extent)).collect()
}

/// The part of `graph` among `ids` (one whole component), vertex `i` renumbered `within[i]`.
fn subgraph(graph: &Graph, ids: &[usize], within: &[u32]) -> Graph {
    let mut offsets = vec![0];
    let (mut targets, mut weights) = (Vec::new(), Vec::new());
    for &i in ids {
        let (to, w) = graph.row(i);
        // A component's edges stay inside it.
        targets.extend(to.iter().map(|&j| within[j as usize]));
        weights.extend_from_slice(w);
        offsets.push(targets.len());
    }
    Graph { offsets, targets, weights }
}

/// Vertices per parallel task in the SGD (about a cache's worth of edges).
const BLOCK: usize = 512;

/// Epoch-scheduled SGD over the graph's edges, as umap-learn's `optimize_layout_euclidean`, in
/// two half-sweeps an epoch (see [`Sgd::pull_block`] and [`Sgd::move_block`]).
fn optimise<const D: usize>(
    graph: &Graph,
    positions: &mut [f32],
    epochs: usize,
    options: &UmapOptions,
    progress: &(dyn Fn(usize, usize, &[f32]) + Sync),
) {
    super::clean_vector_registers(true);
    let (a, b) = find_ab(options.spread, options.min_dist);
    let max_weight = graph.weights.iter().copied().fold(0.0f32, f32::max);
    // Edges too weak to be sampled even once are dropped, as umap-learn does.
    let floor = max_weight / epochs as f32;
    let epochs_per_sample: Vec<f32> = graph
        .weights
        .iter()
        .map(|&w| if w >= floor && w > 0.0 { max_weight / w } else { f32::INFINITY })
        .collect();
    let negative_rate = options.negative_sample_rate as f32;
    let epochs_per_negative: Vec<f32> = epochs_per_sample.iter().map(|e| e / negative_rate).collect();
    let mut next_sample = epochs_per_sample.clone();
    let mut next_negative = epochs_per_negative.clone();
    let sgd = Sgd {
        graph,
        epochs_per_sample,
        epochs_per_negative,
        a,
        b,
        gamma: options.repulsion_strength,
        seed: options.seed,
    };
    let n = graph.n();
    let mut halfway = positions.to_vec();
    let mut due: Vec<Due> = (0..n.div_ceil(BLOCK)).map(|_| Due::default()).collect();
    for epoch in 0..epochs {
        let alpha = options.learning_rate * (1.0 - epoch as f32 / epochs as f32);
        let edge_chunks = split_by_blocks(&mut next_sample, &graph.offsets);
        let negative_chunks = split_by_blocks(&mut next_negative, &graph.offsets);
        let start = positions.as_chunks::<D>().0;
        halfway
            .par_chunks_mut(BLOCK * D)
            .zip(edge_chunks)
            .zip(negative_chunks)
            .zip(&mut due)
            .enumerate()
            .for_each(|(block, (((mine, next_sample), next_negative), due))| {
                let step = Step { epoch, alpha, others: start, first_vertex: block * BLOCK };
                sgd.pull_block::<D>(&step, mine, next_sample, next_negative, due);
            });
        let halfway = halfway.as_chunks::<D>().0;
        positions.par_chunks_mut(BLOCK * D).zip(&due).enumerate().for_each(|(block, (mine, due))| {
            let step = Step { epoch, alpha, others: halfway, first_vertex: block * BLOCK };
            sgd.move_block::<D>(&step, mine, due);
        });
        progress(epoch + 1, epochs, positions);
    }
}

/// What stays fixed through the SGD.
struct Sgd<'a> {
    graph: &'a Graph,
    epochs_per_sample: Vec<f32>,
    epochs_per_negative: Vec<f32>,
    a: f32,
    b: f32,
    gamma: f32,
    seed: u64,
}

/// One block's share of one half-sweep.
struct Step<'a, const D: usize> {
    epoch: usize,
    alpha: f32,
    /// Every point's position when the half-sweep began.
    others: &'a [[f32; D]],
    first_vertex: usize,
}

/// A block's edges due in this epoch, found by the first half-sweep for the second.
#[derive(Default)]
struct Due {
    /// Each due edge's far end, vertex by vertex.
    targets: Vec<u32>,
    /// How many negative samples each due edge brings.
    negatives: Vec<u32>,
    /// How many due edges each vertex of the block has.
    per_vertex: Vec<u32>,
}

impl Sgd<'_> {
    /// The epoch's first half-sweep: each point of the block (`mine`, written from the others'
    /// places in `step`) takes one pull along each of its due edges and half of their negative
    /// samples, and the edges' schedules move on, noted in `due` for [`Sgd::move_block`].
    ///
    /// umap-learn's SGD is sequential: an edge's pull moves both of its ends, and each edge is
    /// met from both ends, so a point is pulled twice an epoch, the second time towards where
    /// its neighbours have gone since. Here every point moves only itself, from places that are
    /// fixed for the half-sweep (reproducible, no locks): a first pull towards the neighbours
    /// where they were, then a second towards where that first pull took them. Taking both
    /// pulls at once instead cost 0.015 of 15-NN accuracy on Fashion-MNIST (issue #23).
    #[inline(never)]
    fn pull_block<const D: usize>(
        &self,
        step: &Step<D>,
        mine: &mut [f32],
        next_sample: &mut [f32],
        next_negative: &mut [f32],
        due: &mut Due,
    ) {
        let graph = self.graph;
        let now = step.epoch as f32;
        let first_edge = graph.offsets[step.first_vertex];
        due.targets.clear();
        due.negatives.clear();
        due.per_vertex.clear();
        for (local, slot) in mine.as_chunks_mut::<D>().0.iter_mut().enumerate() {
            let i = step.first_vertex + local;
            let first_due = due.targets.len();
            for e in graph.offsets[i]..graph.offsets[i + 1] {
                let local_edge = e - first_edge;
                if next_sample[local_edge] > now {
                    continue;
                }
                next_sample[local_edge] += self.epochs_per_sample[e];
                let per_negative = self.epochs_per_negative[e];
                let count = ((now - next_negative[local_edge]) / per_negative).max(0.0) as u32;
                next_negative[local_edge] += count as f32 * per_negative;
                due.targets.push(graph.targets[e]);
                due.negatives.push(count);
            }
            due.per_vertex.push((due.targets.len() - first_due) as u32);
            let (targets, negatives) = (&due.targets[first_due..], &due.negatives[first_due..]);
            *slot = self.move_point(step, i, step.others[i], targets, negatives, true);
        }
    }

    /// The epoch's second half-sweep: each point of the block (`mine`, from where the first
    /// left it) takes one more pull along each due edge towards where the first left the far
    /// end, and the rest of the edges' negative samples.
    #[inline(never)]
    fn move_block<const D: usize>(&self, step: &Step<D>, mine: &mut [f32], due: &Due) {
        let mut first_due = 0;
        for ((local, slot), &count) in mine.as_chunks_mut::<D>().0.iter_mut().enumerate().zip(&due.per_vertex)
        {
            let range = first_due..first_due + count as usize;
            first_due = range.end;
            let (targets, negatives) = (&due.targets[range.clone()], &due.negatives[range]);
            let i = step.first_vertex + local;
            *slot = self.move_point(step, i, *slot, targets, negatives, false);
        }
    }

    /// Point `i`, from `current`: a pull along each due edge (towards `targets`, as they are in
    /// `step`), and this half-sweep's share of each edge's `negatives` (the first takes half,
    /// rounded down, the second the rest).
    ///
    /// Due edges are taken [`LANES`] at a time: their attractions are computed from the same
    /// position, then their negative samples, again [`LANES`] at a time. Independent lanes let
    /// the CPU use SIMD and overlap work instead of waiting on each sample's result.
    #[inline]
    fn move_point<const D: usize>(
        &self,
        step: &Step<D>,
        i: usize,
        mut current: [f32; D],
        targets: &[u32],
        negatives: &[u32],
        first_half: bool,
    ) -> [f32; D] {
        let (stream, share): (u64, fn(u32) -> u32) = if first_half {
            (step.epoch as u64 + (1 << 40), |c| c / 2)
        } else {
            (step.epoch as u64, |c| c - c / 2)
        };
        let mut rng = Rng::derive(self.seed, stream, i as u64);
        for (group, negatives) in targets.chunks(LANES).zip(negatives.chunks(LANES)) {
            // Unused lanes hold the point itself: no difference, no pull. (Every lane is
            // filled by a fixed-length array, so the positions stay in registers.)
            let targets = std::array::from_fn(|l| group.get(l).map_or(current, |&j| step.others[j as usize]));
            let pull = self.attraction(&current, &Lanes::gather(targets, [1.0; LANES]));
            (0..D).for_each(|d| current[d] += pull[d] * step.alpha);
            let negatives = negatives.iter().map(|&c| share(c)).sum::<u32>() as usize;
            let mut push = [f32x4::ZERO; D];
            for first in (0..negatives).step_by(LANES) {
                let lanes = self.sample_lanes(&mut rng, i, negatives - first, step.others);
                let more = self.repulsion(&current, &lanes);
                (0..D).for_each(|d| push[d] += more[d]);
            }
            (0..D).for_each(|d| current[d] += push[d].reduce_add() * step.alpha);
        }
        current
    }

    /// Up to [`LANES`] random points (`count` of them; the other lanes unused), as lanes.
    #[inline]
    fn sample_lanes<const D: usize>(
        &self,
        rng: &mut Rng,
        me: usize,
        count: usize,
        others: &[[f32; D]],
    ) -> Lanes<D> {
        let n = self.graph.n();
        // Fixed-length arrays stay in registers; unused lanes hold the point itself.
        let picked: [usize; LANES] = std::array::from_fn(|l| if l < count { rng.below(n) } else { me });
        // A point never pushes itself away (umap-learn skips it too).
        let used = std::array::from_fn(|l| if l < count && picked[l] != me { 1.0 } else { 0.0 });
        Lanes::gather(picked.map(|k| others[k]), used)
    }

    /// The attraction (clipped gradient, summed over lanes) of `current` towards each lane.
    #[inline]
    fn attraction<const D: usize>(&self, current: &[f32; D], lanes: &Lanes<D>) -> [f32; D] {
        let (differences, d2) = lanes.differences(current);
        let (a, b) = (f32x4::splat(self.a), self.b);
        // Coincident points (d2 = 0) differ by 0, so the floor only keeps the maths finite.
        let d2 = d2.max(f32x4::splat(f32::MIN_POSITIVE));
        let pb = pow4(d2, b);
        let coefficient = f32x4::splat(-2.0 * self.a * b) * (pb / d2) / (a * pb + f32x4::splat(1.0));
        differences
            .map(|diff| (coefficient * diff).fast_clamp(f32x4::splat(-4.0), f32x4::splat(4.0)).reduce_add())
    }

    /// The repulsion (clipped gradient) of `current` from each used lane, still by lane.
    #[inline]
    fn repulsion<const D: usize>(&self, current: &[f32; D], lanes: &Lanes<D>) -> [f32x4; D] {
        let (differences, d2) = lanes.differences(current);
        let coefficient = f32x4::splat(2.0 * self.gamma * self.b)
            / ((f32x4::splat(0.001) + d2) * (f32x4::splat(self.a) * pow4(d2, self.b) + f32x4::splat(1.0)));
        // A sample on top of the point (duplicates) gets umap-learn's fixed push of 4.
        let on_top = d2.simd_eq(f32x4::ZERO) & f32x4::splat(4.0);
        differences.map(|diff| {
            ((coefficient * diff).fast_clamp(f32x4::splat(-4.0), f32x4::splat(4.0)) + on_top) * lanes.used
        })
    }
}

/// Samples are computed [`LANES`] at a time, one per SIMD lane.
const LANES: usize = 4;

/// Up to [`LANES`] other points' coordinates, by dimension.
struct Lanes<const D: usize> {
    others: [f32x4; D],
    /// 1 for a real sample, 0 for an unused lane.
    used: f32x4,
}

impl<const D: usize> Lanes<D> {
    /// Transpose [`LANES`] positions into lanes (in registers, not through memory).
    #[inline]
    fn gather(positions: [[f32; D]; LANES], used: [f32; LANES]) -> Lanes<D> {
        let others = std::array::from_fn(|d| {
            f32x4::new([positions[0][d], positions[1][d], positions[2][d], positions[3][d]])
        });
        Lanes { others, used: f32x4::new(used) }
    }

    /// `current − other` by dimension, and the squared distances.
    #[inline]
    fn differences(&self, current: &[f32; D]) -> ([f32x4; D], f32x4) {
        let mut d2 = f32x4::ZERO;
        let differences: [f32x4; D] = std::array::from_fn(|d| {
            let diff = f32x4::splat(current[d]) - self.others[d];
            d2 += diff * diff;
            diff
        });
        (differences, d2)
    }
}

/// Per-edge state cut into the slices that belong to each block of [`BLOCK`] vertices.
fn split_by_blocks<'a>(mut edges: &'a mut [f32], offsets: &[usize]) -> Vec<&'a mut [f32]> {
    let n = offsets.len() - 1;
    let mut chunks = Vec::with_capacity(n.div_ceil(BLOCK));
    for first in (0..n).step_by(BLOCK) {
        let last = (first + BLOCK).min(n);
        let (head, tail) = edges.split_at_mut(offsets[last] - offsets[first]);
        chunks.push(head);
        edges = tail;
    }
    chunks
}

/// x^y for x > 0, four at a time, through polynomial log2 and exp2 (relative error about
/// 2e-5): the SGD's kernel needs one power per sample, and `powf` would be most of its time.
#[inline]
fn pow4(x: f32x4, y: f32) -> f32x4 {
    exp2(log2(x) * f32x4::splat(y))
}

#[cfg(test)]
fn pow(x: f32, y: f32) -> f32 {
    pow4(f32x4::splat(x), y).as_array()[0]
}

#[inline]
fn log2(x: f32x4) -> f32x4 {
    let bits: i32x4 = wide::bytemuck::cast(x);
    let exponent = ((bits >> 23_u32) & i32x4::splat(0xff)) - i32x4::splat(127);
    let mantissa: f32x4 =
        wide::bytemuck::cast((bits & i32x4::splat(0x007f_ffff)) | i32x4::splat(0x3f80_0000));
    let t = mantissa - f32x4::splat(1.0); // in [0, 1)
    // Least-squares fit of log2(1 + t) on [0, 1], degree 6: error below 5e-6.
    let mut p = f32x4::splat(-0.026_066_302);
    for c in [0.121_914_14, -0.277_365_05, 0.456_894_17, -0.717_898_4, 1.442_517] {
        p = p * t + f32x4::splat(c);
    }
    exponent.round_float() + p * t
}

#[inline]
fn exp2(y: f32x4) -> f32x4 {
    // Adding 1.5 · 2^23 rounds y to an integer held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let y = y.fast_clamp(f32x4::splat(-126.0), f32x4::splat(126.0));
    let shifted = y + f32x4::splat(ROUND);
    let whole = wide::bytemuck::cast::<f32x4, i32x4>(shifted) - i32x4::splat(ROUND.to_bits() as i32);
    let f = y - (shifted - f32x4::splat(ROUND)); // in [−0.5, 0.5]
    // Least-squares fit of 2^f on [−0.5, 0.5], degree 4: relative error below 8e-6.
    let mut p = f32x4::splat(0.009_670_768);
    for c in [0.055_875_536, 0.240_222_1, 0.693_127_3, 1.0] {
        p = p * f + f32x4::splat(c);
    }
    let scale: f32x4 = wide::bytemuck::cast((whole + i32x4::splat(127)) << 23_u32);
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ab_matches_umap_learn() {
        // umap-learn 0.5: find_ab_params(1.0, 0.1) = (1.5769, 0.8951); (1.0, 0.5) = (0.5830, 1.3341).
        let (a, b) = find_ab(1.0, 0.1);
        assert!((a - 1.5769).abs() < 2e-3 && (b - 0.8951).abs() < 1e-3, "{a} {b}");
        let (a, b) = find_ab(1.0, 0.5);
        assert!((a - 0.5830).abs() < 2e-3 && (b - 1.3341).abs() < 1e-3, "{a} {b}");
    }

    #[test]
    fn fast_pow_is_accurate() {
        for &x in &[1e-6f32, 0.01, 0.3, 1.0, 2.5, 17.0, 1e4, 123_456.7] {
            for &y in &[0.79f32, -0.21, 1.33, 0.5] {
                let (got, want) = (pow(x, y), x.powf(y));
                assert!(((got - want) / want).abs() < 2e-5, "{x}^{y}: {got} vs {want}");
            }
        }
    }

    /// Three groups laid out, then new points of each group placed among them: the old points
    /// stay exactly where they were, and each new point lands inside its own group's area.
    #[test]
    fn transform_places_new_points_among_their_own_without_moving_the_old() {
        let mut rng = Rng::new(11);
        let point = |g: usize, rng: &mut Rng| -> Vec<f32> {
            (0..6).map(|d| if d == g { 10.0 } else { 0.0 } + rng.normal() as f32).collect()
        };
        let old: Vec<f32> = (0..300).flat_map(|i| point(i % 3, &mut rng)).collect();
        let new: Vec<f32> = (0..30).flat_map(|i| point(i % 3, &mut rng)).collect();
        let fitted_points = Points::new(old.clone(), 300, 6);
        let neighbours = crate::reduce::knn::nearest(&fitted_points, 14, crate::reduce::Metric::Euclidean, 0);
        let options = UmapOptions::default();
        let fitted = layout(&fuzzy_graph(&neighbours), &fitted_points, 2, &options, &|_, _, _| {});
        let all = Points::new([old, new].concat(), 330, 6);
        let queries: Vec<usize> = (300..330).collect();
        let candidates: Vec<usize> = (0..300).collect();
        let metric = crate::reduce::Metric::Euclidean;
        let among_old = crate::reduce::knn::nearest_among(&all, &queries, &candidates, 15, metric);
        let every: Vec<usize> = (0..330).collect();
        let among_all = crate::reduce::knn::nearest_among(&all, &queries, &every, 15, metric);
        let kept = fitted.clone();
        let placed = transform(&fitted, 2, &among_old, &among_all, &options);
        assert_eq!(fitted, kept, "the old points moved");
        assert_eq!(placed.len(), 60);
        assert!(placed.iter().all(|v| v.is_finite()));
        // Each group's centre and radius in the fitted layout; every new point is nearer its own
        // group's centre than any other's.
        let centre = |g: usize| -> [f32; 2] {
            let members = (g..300).step_by(3);
            let n = members.len() as f32;
            let (x, y) = members.fold((0.0, 0.0), |(x, y), i| (x + fitted[2 * i], y + fitted[2 * i + 1]));
            [x / n, y / n]
        };
        let centres = [centre(0), centre(1), centre(2)];
        for q in 0..30 {
            let p = [placed[2 * q], placed[2 * q + 1]];
            let d = |c: [f32; 2]| (p[0] - c[0]).hypot(p[1] - c[1]);
            let nearest_group = (0..3).min_by(|&a, &b| d(centres[a]).total_cmp(&d(centres[b]))).unwrap();
            assert_eq!(nearest_group, q % 3, "new point {q} landed in another group");
        }
    }

    /// The spectral start's axes are eigenvectors of D^-½ W D^-½, orthogonal to the trivial one.
    #[test]
    fn spectral_layout_finds_eigenvectors() {
        let mut rng = Rng::new(8);
        let data: Vec<f32> = (0..600 * 5).map(|_| rng.normal() as f32).collect();
        let points = Points::new(data, 600, 5);
        let graph =
            fuzzy_graph(&crate::reduce::knn::nearest(&points, 14, crate::reduce::Metric::Euclidean, 0));
        assert_eq!(component_labels(&graph).0, 1);
        let layout = spectral_layout(&graph, 3, 1).expect("connected graph");
        let n = graph.n();
        let degree: Vec<f64> = (0..n).map(|i| graph.row(i).1.iter().map(|&w| w as f64).sum()).collect();
        for d in 0..3 {
            let y: Vec<f64> = (0..n).map(|i| layout[i * 3 + d] as f64).collect();
            let my: Vec<f64> = (0..n)
                .map(|i| {
                    let (targets, weights) = graph.row(i);
                    let s: f64 = targets
                        .iter()
                        .zip(weights)
                        .map(|(&j, &w)| w as f64 * y[j as usize] / degree[j as usize].sqrt())
                        .sum();
                    s / degree[i].sqrt()
                })
                .collect();
            let lambda = dot(&y, &my) / dot(&y, &y);
            let residual: f64 = my.iter().zip(&y).map(|(a, b)| (a - lambda * b).powi(2)).sum::<f64>().sqrt();
            assert!(residual < 1e-3 * dot(&y, &y).sqrt(), "axis {d}: residual {residual}");
            assert!(lambda > 0.5 && lambda < 1.0, "axis {d}: eigenvalue {lambda}");
            let trivial: f64 = y.iter().zip(&degree).map(|(a, g)| a * g.sqrt()).sum();
            assert!(trivial.abs() < 1e-3 * dot(&y, &y).sqrt() * dot(&degree, &vec![1.0; n]).sqrt());
        }
    }

    /// Seven groups of 60 points far apart in 5-D (seven components of the graph) and a dozen
    /// odd points far from all of them: each starts in a space of its own around its centroid's
    /// place, and the finished layout keeps the odd ones within the groups' span.
    #[test]
    fn disconnected_components_start_in_spaces_of_their_own() {
        let mut rng = Rng::new(3);
        let mut data = Vec::new();
        for g in 0..7 {
            for _ in 0..60 {
                data.extend((0..5).map(|d| {
                    (if d == g % 5 { 40.0 } else { 0.0 }) + (g / 5) as f32 * 25.0 + rng.normal() as f32
                }));
            }
        }
        for _ in 0..12 {
            data.extend([500.0, -300.0, 0.0, 0.0, 0.0].map(|x| x + rng.normal() as f32));
        }
        let points = Points::new(data, 432, 5);
        let graph =
            fuzzy_graph(&crate::reduce::knn::nearest(&points, 9, crate::reduce::Metric::Euclidean, 0));
        let (count, labels) = component_labels(&graph);
        assert_eq!(count, 8);
        let options = UmapOptions::default();
        let start = component_layout(&graph, &points, 2, count, &labels, 1).expect("a layout");
        assert!(start.iter().all(|v| v.is_finite() && v.abs() <= 2.0));
        // Each component in a box of its own.
        let boxes: Vec<[f32; 4]> = (0..count as u32)
            .map(|c| {
                (0..432).filter(|&i| labels[i] == c).fold([f32::MAX, f32::MAX, f32::MIN, f32::MIN], |b, i| {
                    [
                        b[0].min(start[2 * i]),
                        b[1].min(start[2 * i + 1]),
                        b[2].max(start[2 * i]),
                        b[3].max(start[2 * i + 1]),
                    ]
                })
            })
            .collect();
        for (a, p) in boxes.iter().enumerate() {
            for q in &boxes[a + 1..] {
                assert!(p[2] < q[0] || q[2] < p[0] || p[3] < q[1] || q[3] < p[1], "{p:?} overlaps {q:?}");
            }
        }
        let layout = layout(&graph, &points, 2, &options, &|_, _, _| {});
        // How far the odd pair ends from the nearest group, against the size of a group.
        let centre = |ids: &[usize]| {
            let n = ids.len() as f32;
            ids.iter().fold([0.0f32; 2], |c, &i| [c[0] + layout[2 * i] / n, c[1] + layout[2 * i + 1] / n])
        };
        let groups: Vec<[f32; 2]> =
            (0..7).map(|g| centre(&(g * 60..(g + 1) * 60).collect::<Vec<_>>())).collect();
        let odd = centre(&(420..432).collect::<Vec<_>>());
        let distance = |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
        let radius =
            (0..60).map(|i| distance([layout[2 * i], layout[2 * i + 1]], groups[0])).fold(0.0, f32::max);
        let nearest = groups.iter().map(|&g| distance(g, odd)).fold(f32::INFINITY, f32::min);
        let spread = groups.iter().map(|&g| distance(g, groups[0])).fold(0.0, f32::max);
        println!("odd ones {nearest:.1} from the nearest group; groups span {spread:.1}, radius {radius:.1}");
        assert!(nearest < spread, "the odd ones ended {nearest:.1} away; the groups span {spread:.1}");
    }

    #[test]
    fn smooth_knn_hits_its_target() {
        let distances = [0.0, 0.5, 0.7, 0.9, 1.4, 2.0];
        let target = 7f32.log2();
        let (rho, sigma) = smooth_knn(&distances, target);
        assert_eq!(rho, 0.5);
        let sum: f32 =
            distances.iter().map(|&d| if d > rho { (-(d - rho) / sigma).exp() } else { 1.0 }).sum();
        assert!((sum - target).abs() < 1e-3);
    }
}
