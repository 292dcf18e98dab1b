//! From feature vectors to places: PCA, nearest neighbours and UMAP, all on the CPU.
//!
//! The stages are separate so that 2D and 3D layouts share one neighbour graph:
//! [`prepare`] (normalise, PCA) → [`knn::nearest`] → [`umap::fuzzy_graph`] → [`umap::layout`].

pub mod clusters;
pub mod knn;
pub mod pca;
pub mod umap;
pub mod update;

use crate::build::Progress;
use crate::layout;
use std::str::FromStr;

/// Points as a dense row-major matrix: `n` rows of `dims` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    pub data: Vec<f32>,
    pub n: usize,
    pub dims: usize,
}

impl Points {
    pub fn new(data: Vec<f32>, n: usize, dims: usize) -> Points {
        assert_eq!(data.len(), n * dims, "points: data length is not n × dims");
        Points { data, n, dims }
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dims..(i + 1) * self.dims]
    }
}

/// How dissimilar two feature vectors are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metric {
    /// One minus the cosine similarity: the angle between vectors, blind to their length. The
    /// right choice for network embeddings.
    #[default]
    Cosine,
    Euclidean,
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Metric, String> {
        match s {
            "cosine" => Ok(Metric::Cosine),
            "euclidean" => Ok(Metric::Euclidean),
            other => Err(format!("unknown metric `{other}` (expected cosine or euclidean)")),
        }
    }
}

/// Beyond [`knn::EXACT_LIMIT`] points at most this many dimensions reach the (approximate)
/// neighbour search by default: PCA keeps the directions that carry the structure and makes
/// every distance several times cheaper. 50 (PixPlot's) cost UMAP 2D of Fashion-MNIST's pixels
/// 0.007 of 15-NN label accuracy against umap-learn's search in all 784 (issue #23).
pub const PCA_DIMS: usize = 100;

/// Principal components the neighbour search uses for `n` points of `dims`: `pca_dims` when
/// given; by default, for network vectors (cosine), all of them while the search is exact (the
/// neighbours of the full space, as umap-learn finds them: on the emoji's vectors 50 components
/// cost UMAP 2D 0.014 of trustworthiness), else [`PCA_DIMS`]: NN-descent needs short vectors to
/// be fast.
pub fn search_dims(n: usize, dims: usize, metric: Metric, pca_dims: Option<usize>) -> usize {
    let exact = n <= knn::EXACT_LIMIT;
    pca_dims.unwrap_or(if exact && metric == Metric::Cosine { dims } else { PCA_DIMS })
}

/// Ready points for the neighbour search, where all distances are Euclidean: rows are
/// L2-normalised for the cosine metric (so the squared chord length is twice the cosine
/// distance), then projected on their principal components ([`search_dims`] of them).
pub fn prepare(points: &Points, metric: Metric, pca_dims: Option<usize>) -> Points {
    let keep = search_dims(points.n, points.dims, metric, pca_dims);
    if metric == Metric::Euclidean {
        return pca::project(points, keep);
    }
    let data =
        points.data.chunks_exact(points.dims.max(1)).flat_map(crate::embed::model::normalised).collect();
    let normalised = Points::new(data, points.n, points.dims);
    pca::project(&normalised, keep)
}

/// How vectors become layouts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LayoutOptions {
    pub metric: Metric,
    /// Principal components kept for the neighbour search (None: [`search_dims`]' choice).
    pub pca_dims: Option<usize>,
    pub umap: umap::UmapOptions,
    pub clusters: clusters::ClusterOptions,
}

/// How many nearest images each image lists for "fly to similar".
pub const SIMILAR: usize = 12;

/// The places the vectors give: UMAP in 3D and 2D (normalised like every layout), each
/// image's [`SIMILAR`] nearest images (fewer when the collection is smaller) and the hotspots
/// (unnamed: names come from what the bundle knows about the images).
#[derive(Debug, Clone, PartialEq)]
pub struct Places {
    pub umap3d: Vec<[f32; 3]>,
    pub umap2d: Vec<[f32; 3]>,
    pub similar: knn::Neighbours,
    pub hotspots: Vec<clusters::Group>,
    /// UMAP's own coordinates (3 and 2 per image) before normalising: new images are placed
    /// among these later (see [`update`]).
    pub raw3d: Vec<f32>,
    pub raw2d: Vec<f32>,
}

/// UMAP coordinates (`dims` per point) as a layout's normalised positions.
pub fn normalised(coordinates: &[f32], dims: usize) -> Vec<[f32; 3]> {
    let positions =
        coordinates.chunks_exact(dims).map(|c| [c[0], c[1], if dims == 3 { c[2] } else { 0.0 }]).collect();
    layout::normalise(positions)
}

/// Lay out `vectors` with UMAP, both ways from one neighbour graph.
pub fn places(vectors: &Points, options: &LayoutOptions, progress: &dyn Progress) -> Places {
    let n = vectors.n;
    progress.stage("Finding neighbours", 1);
    let prepared = prepare(vectors, options.metric, options.pca_dims);
    let k = options.umap.n_neighbors.saturating_sub(1).max(SIMILAR);
    let neighbours = knn::nearest(&prepared, k, options.metric, options.umap.seed);
    progress.advance();
    // UMAP uses its own n_neighbors; the rest of the list served only "similar".
    let graph = umap::fuzzy_graph(&neighbours.truncated(options.umap.n_neighbors.saturating_sub(1)));
    let epochs = options.umap.epochs(n);
    let run = |dims: usize, title: &str| {
        progress.stage(title, epochs as u64);
        let coordinates =
            umap::layout(&graph, &prepared, dims, &options.umap, &|epoch, epochs, positions| {
                progress.advance();
                progress.layout_epoch(dims, epoch, epochs, positions);
            });
        (normalised(&coordinates, dims), coordinates)
    };
    let (umap3d, raw3d) = run(3, "Laying out in 3D (UMAP)");
    let (umap2d, raw2d) = run(2, "Laying out in 2D (UMAP)");
    progress.stage("Finding hotspots", 1);
    let hotspots = clusters::find(&umap2d, &prepared, &options.clusters);
    progress.advance();
    Places { umap3d, umap2d, similar: neighbours.truncated(SIMILAR), hotspots, raw3d, raw2d }
}

/// A small, fast, seedable random number generator (wyrand): layouts must be reproducible from
/// a seed, and each parallel task derives its own stream from (seed, task) with [`Rng::derive`].
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// An independent stream for one part of the work (an epoch, a vertex, a tree).
    pub fn derive(seed: u64, a: u64, b: u64) -> Rng {
        let mut r = Rng::new(seed);
        r.0 ^= a.wrapping_mul(0xa076_1d64_78bd_642f);
        r.next_u64();
        r.0 ^= b.wrapping_mul(0xe703_7ed1_a0b4_28db);
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let t = (self.0 as u128) * ((self.0 ^ 0xe703_7ed1_a0b4_28db) as u128);
        ((t >> 64) as u64) ^ (t as u64)
    }

    /// Uniform in `0..n` (n ≥ 1).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// faer's AVX kernels (and any other AVX code run on the same threads) leave the upper halves
/// of the vector registers in use on the threads that ran them. On many x86 CPUs every SSE
/// instruction after that waits on a merge, and our code, built for baseline x86-64 (SSE), ran
/// many times slower: Fashion-MNIST's fuzzy graph took 1.3 s after the PCA instead of 0.1 s.
/// `vzeroupper` marks the registers clean again: on this thread, and with `pool` on every
/// thread of rayon's pool as well.
pub(crate) fn clean_vector_registers(pool: bool) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX, checked above.
        let clean = || unsafe { std::arch::x86_64::_mm256_zeroupper() };
        clean();
        if pool {
            rayon::broadcast(|_| clean());
        }
    }
    // Other CPUs have no such penalty.
    #[cfg(not(target_arch = "x86_64"))]
    let _ = pool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_reproducible_and_spread() {
        let a: Vec<u64> = (0..4).map(|_| Rng::derive(7, 1, 2).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::derive(7, 1, 2).next_u64(), Rng::derive(7, 2, 1).next_u64());
        let mut r = Rng::new(1);
        let mut counts = [0usize; 10];
        for _ in 0..100_000 {
            counts[r.below(10)] += 1;
        }
        assert!(counts.iter().all(|&c| (9_000..11_000).contains(&c)), "{counts:?}");
    }
}
