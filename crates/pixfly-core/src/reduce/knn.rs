//! The k nearest neighbours of every point: exact by blocked matrix products for moderate
//! collections, NN-descent (Dong et al. 2011) seeded by random-projection trees beyond.
//!
//! Both work on points from [`super::prepare`], where every metric has become Euclidean. Each
//! point only ever writes its own neighbour list, so the parallel result does not depend on
//! thread timing: the same seed gives the same graph.

use super::{Metric, Points, Rng};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;
use std::borrow::Cow;
use wide::f32x8;

/// Up to this many points, the exact search is about as fast as the approximate one.
pub const EXACT_LIMIT: usize = 20_000;

/// Every point's nearest other points, nearest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    /// Points.
    pub n: usize,
    /// Neighbours per point (the requested k, or fewer when there are not enough points).
    pub k: usize,
    /// `n × k` point indices.
    pub indices: Vec<u32>,
    /// `n × k` distances in the metric asked for, ascending along each row.
    pub distances: Vec<f32>,
}

impl Neighbours {
    /// Only the first `k` neighbours of each point.
    pub fn truncated(&self, k: usize) -> Neighbours {
        if k >= self.k {
            return self.clone();
        }
        let rows =
            |v: &[u32]| -> Vec<u32> { v.chunks_exact(self.k).flat_map(|r| r[..k].iter().copied()).collect() };
        let distances = self.distances.chunks_exact(self.k).flat_map(|r| r[..k].iter().copied()).collect();
        Neighbours { n: self.n, k, indices: rows(&self.indices), distances }
    }

    pub fn of(&self, i: usize) -> (&[u32], &[f32]) {
        let r = i * self.k..(i + 1) * self.k;
        (&self.indices[r.clone()], &self.distances[r])
    }
}

/// The `k` nearest neighbours (not counting the point itself) of every point, with distances in
/// `metric`. `points` come from [`super::prepare`] with the same metric.
pub fn nearest(points: &Points, k: usize, metric: Metric, seed: u64) -> Neighbours {
    nearest_with(points, k, metric, seed, points.n <= EXACT_LIMIT)
}

/// [`nearest`], choosing the method: exact, or NN-descent.
pub fn nearest_with(points: &Points, k: usize, metric: Metric, seed: u64, exact: bool) -> Neighbours {
    let k = k.min(points.n.saturating_sub(1));
    let mut heaps = Heaps::new(points.n, k);
    if k > 0 {
        if exact {
            exact_search(points, &mut heaps);
        } else {
            nn_descent(points, &mut heaps, seed);
        }
    }
    heaps.into_neighbours(metric)
}

/// For each of `queries` (rows of `points`), its `k` nearest among `candidates` (rows; a query
/// is never its own neighbour), exactly: `indices` are positions in `candidates`. For placing a
/// few new points among many laid-out ones.
pub fn nearest_among(
    points: &Points,
    queries: &[usize],
    candidates: &[usize],
    k: usize,
    metric: Metric,
) -> Neighbours {
    // Room for every query's list, one short when a query is among the candidates.
    let mut candidate = vec![false; points.n];
    candidates.iter().for_each(|&c| candidate[c] = true);
    let overlap = queries.iter().any(|&q| candidate[q]);
    let k = k.min(candidates.len().saturating_sub(usize::from(overlap)));
    let mut heaps = Heaps::new(queries.len(), k);
    if k > 0 {
        exact_among(points, queries, candidates, &mut heaps);
    }
    heaps.into_neighbours(metric)
}

/// A squared distance between points from [`super::prepare`] as a distance in `metric`.
pub fn in_metric(d2: f32, metric: Metric) -> f32 {
    match metric {
        // Unit vectors: |a − b|² = 2 (1 − cos).
        Metric::Cosine => d2.max(0.0) / 2.0,
        Metric::Euclidean => d2.max(0.0).sqrt(),
    }
}

/// Squared Euclidean distance, written so the compiler vectorises it.
#[inline]
pub fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            let t = x[l] - y[l];
            acc[l] += t * t;
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| (x - y) * (x - y)).sum();
    acc.iter().sum::<f32>() + tail
}

/// One bounded max-heap of (squared distance, index) per point, flat; `fresh` marks entries not
/// yet used by NN-descent's local join.
struct Heaps {
    n: usize,
    k: usize,
    ids: Vec<u32>,
    dists: Vec<f32>,
    fresh: Vec<bool>,
}

/// One point's heap, borrowed.
struct Heap<'a> {
    ids: &'a mut [u32],
    dists: &'a mut [f32],
    fresh: &'a mut [bool],
}

impl Heaps {
    fn new(n: usize, k: usize) -> Heaps {
        Heaps {
            n,
            k,
            ids: vec![u32::MAX; n * k],
            dists: vec![f32::INFINITY; n * k],
            fresh: vec![false; n * k],
        }
    }

    /// Each point's heap with its index, for parallel work where a point writes only its own.
    fn par_rows(&mut self) -> impl IndexedParallelIterator<Item = (usize, Heap<'_>)> {
        let k = self.k;
        self.ids
            .par_chunks_mut(k)
            .zip(self.dists.par_chunks_mut(k))
            .zip(self.fresh.par_chunks_mut(k))
            .map(|((ids, dists), fresh)| Heap { ids, dists, fresh })
            .enumerate()
    }

    fn into_neighbours(self, metric: Metric) -> Neighbours {
        let k = self.k;
        let mut indices = Vec::with_capacity(self.ids.len());
        let mut distances = Vec::with_capacity(self.ids.len());
        let mut row: Vec<(f32, u32)> = Vec::with_capacity(k);
        for (ids, dists) in self.ids.chunks_exact(k.max(1)).zip(self.dists.chunks_exact(k.max(1))) {
            row.clear();
            row.extend(dists.iter().copied().zip(ids.iter().copied()));
            row.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(d2, id) in &row {
                indices.push(id);
                distances.push(in_metric(d2, metric));
            }
        }
        Neighbours { n: self.n, k, indices, distances }
    }
}

impl Heap<'_> {
    fn worst(&self) -> f32 {
        self.dists[0]
    }

    /// Offer point `q` at squared distance `d`; true if it entered the heap.
    fn push(&mut self, q: u32, d: f32) -> bool {
        // NaN distances never enter.
        if d.partial_cmp(&self.dists[0]) != Some(std::cmp::Ordering::Less) || self.ids.contains(&q) {
            return false;
        }
        let k = self.ids.len();
        let mut i = 0;
        loop {
            let left = 2 * i + 1;
            if left >= k {
                break;
            }
            let right = left + 1;
            let child = if right < k && self.dists[right] > self.dists[left] { right } else { left };
            if self.dists[child] <= d {
                break;
            }
            self.ids[i] = self.ids[child];
            self.dists[i] = self.dists[child];
            self.fresh[i] = self.fresh[child];
            i = child;
        }
        self.ids[i] = q;
        self.dists[i] = d;
        self.fresh[i] = true;
        true
    }
}

/// Queries per block and candidates per matrix product in the exact search: a 512 × 256 block
/// of distances stays in the L2 cache.
const QUERY_BLOCK: usize = 256;
const CANDIDATE_BLOCK: usize = 512;

/// Exact search: |a − b|² = |a|² + |b|² − 2 a·b, with the dot products from matrix products.
fn exact_search(points: &Points, heaps: &mut Heaps) {
    let every: Vec<usize> = (0..points.n).collect();
    exact_among(points, &every, &every, heaps);
}

/// The exact search of `queries` (rows of `points`, one heap each) among `candidates` (rows;
/// heaps hold positions in it), a query never finding itself.
fn exact_among(points: &Points, queries: &[usize], candidates: &[usize], heaps: &mut Heaps) {
    let d = points.dims;
    // The picked rows side by side (the points themselves when every row is picked, in order).
    let rows = |picked: &[usize]| -> Cow<[f32]> {
        if picked.len() == points.n && picked.iter().enumerate().all(|(i, &r)| i == r) {
            Cow::Borrowed(&points.data)
        } else {
            Cow::Owned(picked.iter().flat_map(|&r| points.row(r)).copied().collect())
        }
    };
    let (query_rows, candidate_rows) = (rows(queries), rows(candidates));
    let q_matrix = MatRef::from_row_major_slice(&query_rows, queries.len(), d);
    let c_matrix = MatRef::from_row_major_slice(&candidate_rows, candidates.len(), d);
    let norm = |r: usize| points.row(r).iter().map(|v| v * v).sum::<f32>();
    let candidate_norms: Vec<f32> = candidates.iter().map(|&r| norm(r)).collect();
    let query_norms: Vec<f32> = queries.iter().map(|&r| norm(r)).collect();
    // Where each query sits among the candidates (usize::MAX: it is not one of them).
    let mut position = vec![usize::MAX; points.n];
    candidates.iter().enumerate().for_each(|(c, &r)| position[r] = c);
    let n = candidates.len();
    let k = heaps.k;
    heaps
        .ids
        .par_chunks_mut(QUERY_BLOCK * k)
        .zip(heaps.dists.par_chunks_mut(QUERY_BLOCK * k))
        .zip(heaps.fresh.par_chunks_mut(QUERY_BLOCK * k))
        .enumerate()
        .for_each(|(block, ((ids, dists), fresh))| {
            let first = block * QUERY_BLOCK;
            let count_q = ids.len() / k;
            let mut dots = Mat::<f32>::zeros(CANDIDATE_BLOCK, count_q);
            for start in (0..n).step_by(CANDIDATE_BLOCK) {
                let count = CANDIDATE_BLOCK.min(n - start);
                let mut dots = dots.as_mut().subrows_mut(0, count);
                // −2 (candidates × queries): column q holds query q's dot products, contiguous.
                matmul(
                    dots.as_mut(),
                    Accum::Replace,
                    c_matrix.subrows(start, count),
                    q_matrix.subrows(first, count_q).transpose(),
                    -2.0,
                    Par::Seq,
                );
                super::clean_vector_registers(false);
                for q in 0..count_q {
                    let r = q * k..(q + 1) * k;
                    let mut heap =
                        Heap { ids: &mut ids[r.clone()], dists: &mut dists[r.clone()], fresh: &mut fresh[r] };
                    let column = dots.as_ref().col(q).try_as_col_major().expect("a contiguous column");
                    offer_block(
                        &mut heap,
                        position[queries[first + q]],
                        start,
                        query_norms[first + q],
                        &candidate_norms[start..start + count],
                        column.as_slice(),
                    );
                }
            }
        });
}

/// Offer one query (`me`, squared norm `my_norm`) the candidates from `start` on, given their
/// squared norms and their dot products with the query times −2. Almost no candidate beats
/// the heap's worst, so eight at a time are ruled out with SIMD before any is looked at alone.
#[inline]
fn offer_block(heap: &mut Heap, me: usize, start: usize, my_norm: f32, norms: &[f32], minus_2_dots: &[f32]) {
    let offer = |heap: &mut Heap, c: usize, d2: f32| {
        if d2 < heap.worst() && start + c != me {
            heap.push((start + c) as u32, d2);
        }
    };
    let tail = norms.len() / 8 * 8;
    for (chunk, (n, m)) in norms.chunks_exact(8).zip(minus_2_dots.chunks_exact(8)).enumerate() {
        let d2 = f32x8::splat(my_norm) + f32x8::from(n) + f32x8::from(m);
        if d2.simd_lt(f32x8::splat(heap.worst())).any() {
            d2.to_array().iter().enumerate().for_each(|(l, &d2)| offer(heap, chunk * 8 + l, d2));
        }
    }
    for c in tail..norms.len() {
        offer(heap, c, my_norm + norms[c] + minus_2_dots[c]);
    }
}

/// NN-descent iterations stop when fewer than this fraction of all neighbour slots changed.
const CONVERGED: f64 = 0.001;
const MAX_ITERATIONS: usize = 12;

fn nn_descent(points: &Points, heaps: &mut Heaps, seed: u64) {
    let n = points.n;
    let k = heaps.k;
    seed_from_trees(points, heaps, seed);
    let max_candidates = k.max(8);
    for iteration in 0..MAX_ITERATIONS {
        let candidates = Candidates::sample(heaps, max_candidates, Rng::derive(seed, 2, iteration as u64));
        let changed: usize = heaps
            .par_rows()
            .map(|(u, mut heap)| {
                let mut changed = 0;
                let me = points.row(u);
                let (mine_new, mine_old) = (candidates.new_of(u), candidates.old_of(u));
                // Neighbours of neighbours, where at least one of the two links is new.
                for (&p, through_new) in
                    mine_new.iter().map(|p| (p, true)).chain(mine_old.iter().map(|p| (p, false)))
                {
                    let p = p as usize;
                    let olds: &[u32] = if through_new { candidates.old_of(p) } else { &[] };
                    for &v in candidates.new_of(p).iter().chain(olds) {
                        if v as usize == u {
                            continue;
                        }
                        let d = squared_distance(me, points.row(v as usize));
                        if d < heap.worst() && heap.push(v, d) {
                            changed += 1;
                        }
                    }
                }
                changed
            })
            .sum();
        tracing::debug!(iteration, changed, "nn-descent");
        if (changed as f64) < CONVERGED * (n * k) as f64 {
            break;
        }
    }
}

/// Leaves of random-projection trees hold points that are close together: every point starts
/// with its leaf-mates from several trees as neighbours.
fn seed_from_trees(points: &Points, heaps: &mut Heaps, seed: u64) {
    let n = points.n;
    let k = heaps.k;
    let leaf_size = (k + 1).max(24);
    let trees = (4 + (n as f64).powf(0.25) as usize / 2).min(16);
    let forest: Vec<Tree> = (0..trees)
        .into_par_iter()
        .map(|t| Tree::grow(points, leaf_size, Rng::derive(seed, 1, t as u64)))
        .collect();
    heaps.par_rows().for_each(|(u, mut heap)| {
        let me = points.row(u);
        for tree in &forest {
            for &v in tree.leaf_of(u) {
                if v as usize != u {
                    heap.push(v, squared_distance(me, points.row(v as usize)));
                }
            }
        }
        // A point whose leaves were too small to fill its heap gets random neighbours.
        let mut rng = Rng::derive(seed, 3, u as u64);
        for _ in 0..64 * k {
            if !heap.ids.contains(&u32::MAX) {
                break;
            }
            let v = rng.below(n);
            if v != u {
                heap.push(v as u32, squared_distance(me, points.row(v)));
            }
        }
    });
}

/// A random-projection tree, flattened: `order` lists the points leaf by leaf, and each point
/// knows where its leaf lies in `order`.
struct Tree {
    order: Vec<u32>,
    leaf: Vec<(u32, u32)>,
}

impl Tree {
    /// Split at the hyperplane halfway between two random points until leaves are small.
    fn grow(points: &Points, leaf_size: usize, mut rng: Rng) -> Tree {
        let n = points.n;
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut leaf = vec![(0u32, 0u32); n];
        let mut stack = vec![(0usize, n)];
        let mut normal = vec![0f32; points.dims];
        while let Some((lo, hi)) = stack.pop() {
            if hi - lo <= leaf_size {
                for &p in &order[lo..hi] {
                    leaf[p as usize] = (lo as u32, hi as u32);
                }
                continue;
            }
            let slice = &mut order[lo..hi];
            let a = points.row(slice[rng.below(slice.len())] as usize);
            let b = points.row(slice[rng.below(slice.len())] as usize);
            let mut offset = 0.0;
            for ((w, x), y) in normal.iter_mut().zip(a).zip(b) {
                *w = x - y;
                offset += *w * (x + y) / 2.0;
            }
            // Partition in place: points above the plane first.
            let mut split = 0;
            for i in 0..slice.len() {
                let x = points.row(slice[i] as usize);
                let margin: f32 = normal.iter().zip(x).map(|(w, v)| w * v).sum::<f32>() - offset;
                let above = if margin.abs() < 1e-8 { rng.below(2) == 0 } else { margin > 0.0 };
                if above {
                    slice.swap(i, split);
                    split += 1;
                }
            }
            // Equal points (or an unlucky pair) give no split: halve the list instead.
            if split == 0 || split == slice.len() {
                split = slice.len() / 2;
            }
            stack.push((lo, lo + split));
            stack.push((lo + split, hi));
        }
        Tree { order, leaf }
    }

    fn leaf_of(&self, point: usize) -> &[u32] {
        let (lo, hi) = self.leaf[point];
        &self.order[lo as usize..hi as usize]
    }
}

/// NN-descent's per-iteration working lists: for each point, a random sample (at most
/// `max_candidates`) of its new and old neighbours, in both directions of the kNN graph.
struct Candidates {
    cap: usize,
    new: Vec<u32>,
    new_len: Vec<u32>,
    old: Vec<u32>,
    old_len: Vec<u32>,
}

impl Candidates {
    fn sample(heaps: &mut Heaps, cap: usize, mut rng: Rng) -> Candidates {
        let n = heaps.n;
        let mut new = Reservoirs::new(n, cap);
        let mut old = Reservoirs::new(n, cap);
        for u in 0..n {
            for slot in u * heaps.k..(u + 1) * heaps.k {
                let v = heaps.ids[slot];
                if v == u32::MAX {
                    continue;
                }
                let priority = rng.next_u64() as u32;
                let lists = if heaps.fresh[slot] { &mut new } else { &mut old };
                lists.offer(u, v, priority);
                lists.offer(v as usize, u as u32, priority);
            }
        }
        // Neighbours that made it into a sample have now been joined: no longer fresh.
        for u in 0..n {
            for slot in u * heaps.k..(u + 1) * heaps.k {
                if heaps.fresh[slot] && new.contains(u, heaps.ids[slot]) {
                    heaps.fresh[slot] = false;
                }
            }
        }
        Candidates { cap, new: new.ids, new_len: new.len, old: old.ids, old_len: old.len }
    }

    fn new_of(&self, u: usize) -> &[u32] {
        &self.new[u * self.cap..u * self.cap + self.new_len[u] as usize]
    }

    fn old_of(&self, u: usize) -> &[u32] {
        &self.old[u * self.cap..u * self.cap + self.old_len[u] as usize]
    }
}

/// Per point, the `cap` offered ids with the smallest random priorities (a uniform sample).
struct Reservoirs {
    cap: usize,
    ids: Vec<u32>,
    priorities: Vec<u32>,
    len: Vec<u32>,
}

impl Reservoirs {
    fn new(n: usize, cap: usize) -> Reservoirs {
        Reservoirs { cap, ids: vec![0; n * cap], priorities: vec![0; n * cap], len: vec![0; n] }
    }

    fn contains(&self, u: usize, v: u32) -> bool {
        self.ids[u * self.cap..u * self.cap + self.len[u] as usize].contains(&v)
    }

    fn offer(&mut self, u: usize, v: u32, priority: u32) {
        if self.contains(u, v) {
            return;
        }
        let base = u * self.cap;
        let len = self.len[u] as usize;
        if len < self.cap {
            self.ids[base + len] = v;
            self.priorities[base + len] = priority;
            self.len[u] += 1;
            return;
        }
        let slots = &self.priorities[base..base + self.cap];
        let (worst, &worst_priority) = slots.iter().enumerate().max_by_key(|(_, p)| **p).unwrap();
        if priority < worst_priority {
            self.ids[base + worst] = v;
            self.priorities[base + worst] = priority;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_points(n: usize, dims: usize, seed: u64) -> Points {
        let mut rng = Rng::new(seed);
        Points::new((0..n * dims).map(|_| rng.normal() as f32).collect(), n, dims)
    }

    /// The exact search against a plain all-pairs loop.
    #[test]
    fn exact_search_finds_the_true_neighbours() {
        let points = random_points(700, 13, 1);
        let found = nearest_with(&points, 10, Metric::Euclidean, 0, true);
        for i in [0, 1, 255, 256, 511, 699] {
            let mut all: Vec<(f32, u32)> = (0..700)
                .filter(|&j| j != i)
                .map(|j| (squared_distance(points.row(i), points.row(j)).sqrt(), j as u32))
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (ids, dists) = found.of(i);
            assert_eq!(ids, all[..10].iter().map(|a| a.1).collect::<Vec<_>>());
            assert!((dists[9] - all[9].0).abs() < 1e-3);
        }
    }

    /// Some rows among others, against a plain loop: positions in the candidate list, and a
    /// query that is a candidate never finds itself.
    #[test]
    fn nearest_among_finds_the_true_neighbours() {
        let points = random_points(900, 11, 4);
        let candidates: Vec<usize> = (0..900).filter(|r| r % 3 != 0).rev().collect();
        let queries = [0, 1, 2, 299, 898];
        let found = nearest_among(&points, &queries, &candidates, 7, Metric::Euclidean);
        for (q, &row) in queries.iter().enumerate() {
            let mut all: Vec<(f32, u32)> = (candidates.iter().enumerate())
                .filter(|&(_, &c)| c != row)
                .map(|(position, &c)| {
                    (squared_distance(points.row(row), points.row(c)).sqrt(), position as u32)
                })
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (ids, dists) = found.of(q);
            assert_eq!(ids, all[..7].iter().map(|a| a.1).collect::<Vec<_>>(), "query {row}");
            assert!((dists[6] - all[6].0).abs() < 1e-3);
        }
    }

    #[test]
    fn nn_descent_recall_is_high_and_reproducible() {
        let points = random_points(6_000, 20, 2);
        let exact = nearest_with(&points, 15, Metric::Euclidean, 0, true);
        let approx = nearest_with(&points, 15, Metric::Euclidean, 5, false);
        assert_eq!(approx, nearest_with(&points, 15, Metric::Euclidean, 5, false));
        let recall = recall(&exact, &approx);
        assert!(recall > 0.95, "recall {recall}");
    }

    #[test]
    fn tiny_inputs_give_what_exists() {
        let one = random_points(1, 4, 0);
        assert_eq!(nearest(&one, 15, Metric::Euclidean, 0).k, 0);
        let three = random_points(3, 4, 0);
        let nn = nearest(&three, 15, Metric::Cosine, 0);
        assert_eq!(nn.k, 2);
        assert!(nn.distances.iter().all(|d| d.is_finite()));
        let same = Points::new(vec![1.0; 40 * 3], 40, 3);
        for exact in [true, false] {
            let nn = nearest_with(&same, 5, Metric::Euclidean, 0, exact);
            assert!(nn.distances.iter().all(|&d| d == 0.0));
            assert!((0..40).all(|i| !nn.of(i).0.contains(&(i as u32))));
        }
    }

    pub fn recall(exact: &Neighbours, approx: &Neighbours) -> f64 {
        let hits: usize =
            (0..exact.n).map(|i| approx.of(i).0.iter().filter(|v| exact.of(i).0.contains(v)).count()).sum();
        hits as f64 / exact.indices.len() as f64
    }
}
