//! New images placed into a bundle's layouts without moving the ones it has.
//!
//! After every layout the build keeps, in the bundle's cache, UMAP's own coordinates and the
//! hotspots under each image's content hash (the [`Fit`]). The next build of the same bundle,
//! with the same network and layout options, keeps those coordinates for the images still there
//! and places only the new ones, as umap-learn's `transform` does ([`umap::transform`]): among
//! their nearest old images, which do not move (and, unlike umap-learn, near each other). Hotspots keep their members; a new image joins
//! the hotspot most of its nearest old images are in. Removed images simply leave. `--relayout` (no fit)
//! lays everything out afresh.

use super::{LayoutOptions, Places, Points, SIMILAR, clusters, knn, normalised, prepare, umap};
use crate::build::Progress;
use crate::bundle::write::{WriteError, write_atomic};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Where a bundle keeps its fit, relative to the bundle.
pub const FIT_FILE: &str = "cache/layout/fit-v1.json";
const COORDINATES_FILE: &str = "cache/layout/fit-v1.f32";
const SIMILAR_FILE: &str = "cache/layout/fit-v1.similar.u32";

/// A fit no longer speaks for a collection that has grown by more than half since.
const MOST_NEW: f64 = 0.5;

/// The layout a bundle was last given, by image content.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Fit {
    /// What the coordinates depend on besides the vectors: the network and the layout options.
    pub key: String,
    pub hashes: Vec<String>,
    /// A digest of each image's vector: an image whose vector changed (vectors given with
    /// `--embeddings` can) is placed again.
    pub vectors: Vec<u64>,
    /// Images the last full layout laid out, and images placed among them since.
    pub fitted: usize,
    pub transformed: usize,
    /// Members and representative, as indices into `hashes`.
    pub hotspots: Vec<(Vec<u32>, u32)>,
    /// Similar images a row (0: none kept; fits made before they were), whose lists are in
    /// `similar` as indices into `hashes`: an addition updates them instead of searching again.
    #[serde(default)]
    pub similar_k: usize,
    #[serde(skip)]
    similar: Vec<u32>,
    #[serde(skip)]
    raw3d: Vec<f32>,
    #[serde(skip)]
    raw2d: Vec<f32>,
}

impl Fit {
    /// The key of a fit: `model` is the network (or "user", or empty) that made the vectors.
    pub fn key(model: &str, options: &LayoutOptions) -> String {
        blake3::hash(format!("{model}\n{options:?}").as_bytes()).to_hex()[..32].to_string()
    }

    /// The bundle's fit, if it has one for `key` that is whole; anything else reads as none.
    pub fn read(bundle: &Path, key: &str) -> Option<Fit> {
        let fit = Fit::summary(bundle)?;
        if fit.key != key {
            return None;
        }
        let n = fit.hashes.len();
        let values: Vec<f32> =
            read_u32s(&bundle.join(COORDINATES_FILE), n * 5)?.into_iter().map(f32::from_bits).collect();
        let (raw3d, raw2d) = values.split_at(n * 3);
        let valid = fit.vectors.len() == n
            && fit
                .hotspots
                .iter()
                .all(|(members, rep)| (*rep as usize) < n && members.iter().all(|&m| (m as usize) < n));
        if !valid {
            return None;
        }
        let k = fit.similar_k;
        let similar = read_u32s(&bundle.join(SIMILAR_FILE), n * k)
            .filter(|s| s.iter().all(|&j| (j as usize) < n))
            .unwrap_or_default();
        let similar_k = if similar.is_empty() { 0 } else { k };
        Some(Fit { raw3d: raw3d.to_vec(), raw2d: raw2d.to_vec(), similar, similar_k, ..fit })
    }

    /// The fit's record without its coordinates (for `pixfly info`).
    pub fn summary(bundle: &Path) -> Option<Fit> {
        let path = bundle.join(FIT_FILE);
        // Our own cache file, but a bounded read all the same: 200 bytes an image is plenty.
        if std::fs::metadata(&path).ok()?.len() > 1 << 30 {
            return None;
        }
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    /// Keep it in the bundle's cache: coordinates first, so a record never names missing ones.
    pub fn write(&self, bundle: &Path) -> Result<(), WriteError> {
        let values = self.raw3d.iter().chain(&self.raw2d);
        let bytes: Vec<u8> = values.flat_map(|v| v.to_le_bytes()).collect();
        write_atomic(&bundle.join(COORDINATES_FILE), &bytes)?;
        let similar: Vec<u8> = self.similar.iter().flat_map(|v| v.to_le_bytes()).collect();
        write_atomic(&bundle.join(SIMILAR_FILE), &similar)?;
        write_atomic(&bundle.join(FIT_FILE), &serde_json::to_vec(self).expect("a fit serialises"))
    }
}

/// How a build's layouts came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Placement {
    /// Images placed among the old ones in this build (0 after a full layout).
    pub placed: usize,
    /// Images laid out by the last full layout, and placed among them since.
    pub fitted: usize,
    pub transformed: usize,
}

/// The places of `vectors` (one row per image, whose content hashes are `hashes`): the old
/// images' from `previous` with the new ones placed among them, or a full layout when there is
/// no usable fit. Returns the fit to keep for next time.
pub fn places(
    vectors: &Points,
    hashes: &[&str],
    previous: Option<Fit>,
    key: &str,
    options: &LayoutOptions,
    progress: &dyn Progress,
) -> (Places, Fit, Placement) {
    let digests: Vec<u64> = (0..vectors.n).map(|i| digest(vectors.row(i))).collect();
    let full = |progress: &dyn Progress| {
        let places = super::places(vectors, options, progress);
        let fit = Fit {
            key: key.to_string(),
            hashes: hashes.iter().map(|h| h.to_string()).collect(),
            vectors: digests.clone(),
            fitted: hashes.len(),
            transformed: 0,
            hotspots: places.hotspots.iter().map(|g| (g.members.clone(), g.representative)).collect(),
            similar_k: places.similar.k,
            similar: places.similar.indices.clone(),
            raw3d: places.raw3d.clone(),
            raw2d: places.raw2d.clone(),
        };
        let placement = Placement { placed: 0, fitted: hashes.len(), transformed: 0 };
        (places, fit, placement)
    };
    let Some(fit) = previous else { return full(progress) };
    let before: HashMap<&str, usize> = fit.hashes.iter().enumerate().map(|(i, h)| (h.as_str(), i)).collect();
    let (mut kept, mut new) = (Vec::new(), Vec::new());
    for (i, hash) in hashes.iter().enumerate() {
        match before.get(hash) {
            Some(&j) if fit.vectors[j] == digests[i] => kept.push((i, j)),
            _ => new.push(i),
        }
    }
    if kept.len() <= options.umap.n_neighbors || new.len() as f64 > MOST_NEW * kept.len() as f64 {
        tracing::info!("{} new images among {}: laying everything out afresh", new.len(), kept.len());
        return full(progress);
    }
    progress.stage("Placing new images (UMAP transform)", 1);
    let prepared = search_points(vectors, options);
    let old_rows: Vec<usize> = kept.iter().map(|&(i, _)| i).collect();
    let similar = if fit.similar_k == SIMILAR && vectors.n > SIMILAR {
        updated_similar(&prepared, &fit, &kept, &new, options.metric)
    } else {
        // The same "similar images" a full layout finds.
        let k = options.umap.n_neighbors.saturating_sub(1).max(SIMILAR);
        knn::nearest(&prepared, k, options.metric, options.umap.seed).truncated(SIMILAR)
    };
    let k = options.umap.n_neighbors;
    let nearest = knn::nearest_among(&prepared, &new, &old_rows, k, options.metric);
    // Old rows first, then the new: a new point's neighbours index [old..., new...].
    let every_row: Vec<usize> = old_rows.iter().chain(&new).copied().collect();
    let among_all = knn::nearest_among(&prepared, &new, &every_row, k, options.metric);
    let [raw3d, raw2d] = [(3, &fit.raw3d), (2, &fit.raw2d)].map(|(dims, old): (usize, &Vec<f32>)| {
        let anchors: Vec<f32> =
            kept.iter().flat_map(|&(_, j)| old[j * dims..(j + 1) * dims].to_vec()).collect();
        let placed = umap::transform(&anchors, dims, &nearest, &among_all, &options.umap);
        let mut all = vec![0.0; hashes.len() * dims];
        for (&(i, _), c) in kept.iter().zip(anchors.chunks_exact(dims)) {
            all[i * dims..(i + 1) * dims].copy_from_slice(c);
        }
        for (&i, c) in new.iter().zip(placed.chunks_exact(dims)) {
            all[i * dims..(i + 1) * dims].copy_from_slice(c);
        }
        all
    });
    let hotspots = carry_hotspots(&fit, &kept, &new, &nearest, &old_rows, || {
        prepare(vectors, options.metric, options.pca_dims)
    });
    progress.advance();
    let transformed = fit.transformed + new.len();
    let placement = Placement { placed: new.len(), fitted: fit.fitted, transformed };
    let next = Fit {
        key: key.to_string(),
        hashes: hashes.iter().map(|h| h.to_string()).collect(),
        vectors: digests,
        fitted: fit.fitted,
        transformed,
        hotspots: hotspots.iter().map(|g| (g.members.clone(), g.representative)).collect(),
        similar_k: similar.k,
        similar: similar.indices.clone(),
        raw3d: raw3d.clone(),
        raw2d: raw2d.clone(),
    };
    let places = Places {
        umap3d: normalised(&raw3d, 3),
        umap2d: normalised(&raw2d, 2),
        similar,
        hotspots,
        raw3d,
        raw2d,
    };
    (places, next, placement)
}

/// The points [`prepare`] gives, but not rotated onto their principal axes when every axis is
/// kept: distances are the same, and the PCA of 1,280-wide vectors would be most of an
/// addition's time.
fn search_points(vectors: &Points, options: &LayoutOptions) -> Points {
    let all = super::search_dims(vectors.n, vectors.dims, options.metric, options.pca_dims) >= vectors.dims;
    match (all, options.metric) {
        (true, super::Metric::Cosine) => {
            let data =
                vectors.data.chunks_exact(vectors.dims.max(1)).flat_map(crate::embed::model::normalised);
            Points::new(data.collect(), vectors.n, vectors.dims)
        }
        (true, super::Metric::Euclidean) => vectors.clone(),
        (false, _) => prepare(vectors, options.metric, options.pca_dims),
    }
}

/// Every image's [`SIMILAR`] nearest, from the fit's lists: an old image's list takes in the new
/// images nearer than its own, a new image's is searched among all, and an old image that lost
/// a listed image (removed, or its vector changed) is searched again. `points` as searched.
fn updated_similar(
    points: &Points,
    fit: &Fit,
    kept: &[(usize, usize)],
    new: &[usize],
    metric: super::Metric,
) -> knn::Neighbours {
    let (n, k) = (points.n, SIMILAR);
    let mut now = vec![None; fit.hashes.len()];
    for &(i, j) in kept {
        now[j] = Some(i as u32);
    }
    let every: Vec<usize> = (0..n).collect();
    let (mut whole, mut redo) = (Vec::new(), Vec::new());
    for &(i, j) in kept {
        let list: Option<Vec<u32>> =
            fit.similar[j * k..(j + 1) * k].iter().map(|&m| now[m as usize]).collect();
        match list {
            Some(list) => whole.push((i, list)),
            None => redo.push(i),
        }
    }
    let mut rows: Vec<Vec<(f32, u32)>> = vec![Vec::new(); n];
    let d2 = |a: usize, b: u32| knn::squared_distance(points.row(a), points.row(b as usize));
    if !new.is_empty() {
        let old_rows: Vec<usize> = whole.iter().map(|&(i, _)| i).collect();
        let nearest_new = knn::nearest_among(points, &old_rows, new, k, metric);
        for (q, (i, list)) in whole.iter().enumerate() {
            let newcomers = nearest_new.of(q).0.iter().map(|&c| new[c as usize] as u32);
            rows[*i] = list.iter().copied().chain(newcomers).map(|m| (d2(*i, m), m)).collect();
        }
    } else {
        whole.iter().for_each(|(i, list)| rows[*i] = list.iter().map(|&m| (d2(*i, m), m)).collect());
    }
    for (searched, found) in [
        (new, &knn::nearest_among(points, new, &every, k, metric)),
        (&redo[..], &knn::nearest_among(points, &redo, &every, k, metric)),
    ] {
        for (q, &i) in searched.iter().enumerate() {
            rows[i] = found.of(q).0.iter().map(|&m| (d2(i, m), m)).collect();
        }
    }
    let mut indices = Vec::with_capacity(n * k);
    let mut distances = Vec::with_capacity(n * k);
    for row in &mut rows {
        row.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for &(d2, m) in &row[..k] {
            indices.push(m);
            distances.push(knn::in_metric(d2, metric));
        }
    }
    knn::Neighbours { n, k, indices, distances }
}

/// A file of exactly `count` little-endian 32-bit words.
fn read_u32s(path: &Path, count: usize) -> Option<Vec<u32>> {
    if std::fs::metadata(path).ok()?.len() != (count * 4) as u64 {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    Some(bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

fn digest(vector: &[f32]) -> u64 {
    let bytes: Vec<u8> = vector.iter().flat_map(|v| v.to_le_bytes()).collect();
    let hash = blake3::hash(&bytes);
    u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// The fit's hotspots in today's ids, with the new images that join them.
fn carry_hotspots(
    fit: &Fit,
    kept: &[(usize, usize)],
    new: &[usize],
    nearest: &knn::Neighbours,
    old_rows: &[usize],
    prepared: impl FnOnce() -> Points,
) -> Vec<clusters::Group> {
    let mut now = vec![None; fit.hashes.len()];
    for &(i, j) in kept {
        now[j] = Some(i as u32);
    }
    let mut hotspot_of = HashMap::new();
    let mut groups: Vec<clusters::Group> = fit
        .hotspots
        .iter()
        .enumerate()
        .map(|(g, (members, representative))| {
            let members: Vec<u32> = members.iter().filter_map(|&m| now[m as usize]).collect();
            for &m in &members {
                hotspot_of.insert(m, g);
            }
            let representative = now[*representative as usize].unwrap_or(u32::MAX);
            clusters::Group { members, representative }
        })
        .collect();
    // A new image joins the hotspot most of its nearest old images are in (none if most are in
    // none: HDBSCAN leaves scattered images out, and so does this).
    for (q, &i) in new.iter().enumerate() {
        let (neighbours, _) = nearest.of(q);
        let mut votes = HashMap::new();
        for &j in neighbours {
            if let Some(&g) = hotspot_of.get(&(old_rows[j as usize] as u32)) {
                *votes.entry(g).or_insert(0usize) += 1;
            }
        }
        let best = votes.into_iter().max_by_key(|&(g, count)| (count, std::cmp::Reverse(g)));
        if let Some((g, count)) = best
            && 2 * count > neighbours.len()
        {
            groups[g].members.push(i as u32);
        }
    }
    groups.retain(|g| g.members.len() >= 2);
    // Medoids are found on the principal axes: only worked out when a representative left.
    let mut prepared = Some(prepared);
    let mut points = None;
    for group in &mut groups {
        group.members.sort_unstable();
        if group.representative == u32::MAX {
            let points = points.get_or_insert_with(|| prepared.take().expect("taken once")());
            group.representative = clusters::medoid(&group.members, points);
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.members.len()));
    groups
}
