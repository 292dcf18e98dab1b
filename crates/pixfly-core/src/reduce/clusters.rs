//! Hotspots: groups of similar images found by HDBSCAN over the 2D UMAP layout (as PixPlot does),
//! each with a representative member and a name people can read.
//!
//! HDBSCAN runs on the layout rather than the raw vectors because density is meaningful there
//! (UMAP has already pulled neighbourhoods together) and it is cheap in two dimensions (a ball
//! tree and Borůvka's spanning tree). The representative is chosen in the vector space, where
//! "typical" means what the network sees.

use super::Points;
use ndarray::Array2;
use petal_clustering::{Fit, HDbscan};
use petal_neighbors::BallTree;
use petal_neighbors::distance::Euclidean;
use std::collections::HashMap;

/// How many hotspots to keep and how small one may be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterOptions {
    /// The largest groups are kept, at most this many (PixPlot's `--max_clusters`).
    pub max_clusters: usize,
    /// Fewer members than this is not a hotspot; `None` scales with the collection
    /// ([`ClusterOptions::min_size_for`]).
    pub min_cluster_size: Option<usize>,
}

impl Default for ClusterOptions {
    fn default() -> ClusterOptions {
        ClusterOptions { max_clusters: 20, min_cluster_size: None }
    }
}

impl ClusterOptions {
    /// The smallest hotspot for `n` images: 1% of the collection, at least 5 images (a fixed
    /// size would split a million images into thousands of crumbs, of which only the largest
    /// few would be kept).
    pub fn min_size_for(&self, n: usize) -> usize {
        self.min_cluster_size.unwrap_or((n / 100).max(5)).max(2)
    }
}

/// One group before it is named: member ids (ascending) and the most typical member.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub members: Vec<u32>,
    pub representative: u32,
}

/// HDBSCAN over `positions` (the 2D layout); groups are ordered by size, largest first, and capped
/// at `options.max_clusters`. Images in no dense region (HDBSCAN's noise) belong to no group.
/// Representatives are medoids in `vectors` (the points the neighbour search used).
pub fn find(positions: &[[f32; 3]], vectors: &Points, options: &ClusterOptions) -> Vec<Group> {
    let n = positions.len();
    let min_size = options.min_size_for(n);
    if n < 2 * min_size || options.max_clusters == 0 || positions.iter().flatten().any(|v| !v.is_finite()) {
        return Vec::new();
    }
    // HDBSCAN's cost grows faster than n (100,000 points: 17 s, a million: 6 min, on 2 cores), so
    // large layouts are clustered on a random sample and every other point joins the group of
    // its nearest sampled point.
    let sample: Vec<usize> = if n > CLUSTER_SAMPLE {
        let mut rng = super::Rng::new(0x5eed);
        let mut ids: Vec<usize> = (0..n).collect();
        for i in 0..CLUSTER_SAMPLE {
            ids.swap(i, i + rng.below(n - i));
        }
        ids.truncate(CLUSTER_SAMPLE);
        ids.sort_unstable();
        ids
    } else {
        (0..n).collect()
    };
    let xy = Array2::from_shape_fn((sample.len(), 2), |(i, d)| positions[sample[i]][d]);
    let scaled_min_size = (min_size * sample.len()).div_ceil(n).max(2);
    // Core distances from the single nearest neighbour, as PixPlot does: with larger values
    // HDBSCAN prefers a few huge groups (on Stellarium's 1,182 images, 5 groups with two of
    // over 500 images, against 39 groups of 20–90 with min_samples 1).
    let mut hdbscan = HDbscan {
        alpha: 1.0,
        min_samples: 1,
        min_cluster_size: scaled_min_size,
        metric: Euclidean::default(),
        boruvka: true,
    };
    // The crate asserts on inputs it cannot handle (such as many identical points); a layout
    // without hotspots is better than a build that dies after the expensive stages.
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hdbscan.fit(&xy, None)));
    let sampled: HashMap<usize, Vec<usize>> = match found {
        Ok((clusters, _noise, _scores)) => clusters,
        Err(_) => {
            tracing::warn!("clustering failed on this layout; the bundle has no hotspots");
            return Vec::new();
        }
    };
    let clusters = if sample.len() == n { sampled } else { spread_to_all(&sampled, &sample, &xy, positions) };
    let mut groups: Vec<Vec<u32>> = clusters
        .into_values()
        .map(|members| {
            let mut members: Vec<u32> = members.into_iter().map(|m| m as u32).collect();
            members.sort_unstable();
            members
        })
        .collect();
    // Largest first; ties by first member so the order does not depend on hashing.
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    groups.truncate(options.max_clusters);
    groups.into_iter().map(|members| Group { representative: medoid(&members, vectors), members }).collect()
}

/// Largest layout HDBSCAN runs on whole; beyond it, on a random sample of this size.
const CLUSTER_SAMPLE: usize = 25_000;

/// Groups of the sampled points (indices into `sample`) extended to all points: each point
/// joins the group of its nearest sampled point, if that one has a group.
fn spread_to_all(
    sampled: &HashMap<usize, Vec<usize>>,
    sample: &[usize],
    xy: &Array2<f32>,
    positions: &[[f32; 3]],
) -> HashMap<usize, Vec<usize>> {
    use rayon::prelude::*;
    let mut group_of = vec![usize::MAX; sample.len()];
    for (&g, members) in sampled {
        members.iter().for_each(|&m| group_of[m] = g);
    }
    let Ok(tree) = BallTree::new(xy.view(), Euclidean::default()) else {
        return HashMap::new();
    };
    let nearest: Vec<usize> =
        positions.par_iter().map(|p| group_of[tree.query_nearest(&ndarray::arr1(&[p[0], p[1]])).0]).collect();
    let mut clusters: HashMap<usize, Vec<usize>> = HashMap::new();
    for (id, &g) in nearest.iter().enumerate() {
        if g != usize::MAX {
            clusters.entry(g).or_default().push(id);
        }
    }
    clusters
}

/// Members compared with at most this many others when looking for the medoid: enough for a
/// stable choice, and it bounds the cost at `MEDOID_SAMPLE²` distances per group.
const MEDOID_SAMPLE: usize = 1500;

/// Coordinates the medoid is found in: `vectors` are on their principal axes, strongest first
/// ([`super::prepare`]), so these are the first principal components, enough to choose a
/// representative by (all of them made a group's medoid cost up to 25 times more).
const MEDOID_DIMS: usize = 50;

/// The member with the smallest total distance to the others. For large groups the candidates
/// are the members nearest the mean and the total runs over an evenly spaced sample.
pub fn medoid(members: &[u32], vectors: &Points) -> u32 {
    let dims = vectors.dims.min(MEDOID_DIMS);
    let row = |m: u32| &vectors.row(m as usize)[..dims];
    let distance = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt();
    let step = members.len().div_ceil(MEDOID_SAMPLE).max(1);
    let sample: Vec<&[f32]> = members.iter().step_by(step).map(|&m| row(m)).collect();
    let mut candidates = members.to_vec();
    if candidates.len() > MEDOID_SAMPLE {
        let mut mean = vec![0f32; dims];
        for &m in members {
            mean.iter_mut().zip(row(m)).for_each(|(s, v)| *s += v);
        }
        mean.iter_mut().for_each(|s| *s /= members.len() as f32);
        candidates.sort_by_cached_key(|&m| ordered(distance(row(m), &mean)));
        candidates.truncate(MEDOID_SAMPLE);
    }
    candidates
        .into_iter()
        .min_by_key(|&m| {
            let row = row(m);
            (ordered(sample.iter().map(|s| distance(row, s)).sum()), m)
        })
        .expect("groups are never empty")
}

/// f32 → a key that sorts like the number (distances are never NaN here; NaN sorts last).
fn ordered(x: f32) -> u32 {
    if x.is_nan() { u32::MAX } else { x.to_bits() }
}

/// A word that describes an image, with a weight (1 for a metadata category, the probability for
/// an auto-tag) and a tier: terms of a lower tier name a group first (a curator's category
/// before what the network guessed).
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub tier: u8,
    pub text: String,
    pub weight: f32,
}

/// Names for groups, from the terms that describe their members. A group is named by the terms
/// most over-represented in it compared with the whole collection (lowest tier first); names are
/// made unique by adding the next term, and groups nothing describes become "Group N".
pub fn names(groups: &[Group], terms: &dyn Fn(u32) -> Vec<Term>, image_count: usize) -> Vec<String> {
    let mut overall: HashMap<(u8, String), f32> = HashMap::new();
    for id in 0..image_count as u32 {
        for term in terms(id) {
            *overall.entry((term.tier, term.text)).or_default() += term.weight;
        }
    }
    let ranked: Vec<Vec<String>> = groups
        .iter()
        .map(|group| {
            let mut inside: HashMap<(u8, String), f32> = HashMap::new();
            for &id in &group.members {
                for term in terms(id) {
                    *inside.entry((term.tier, term.text)).or_default() += term.weight;
                }
            }
            // How much the term tells this group apart: its share here times the log of how much
            // more common it is here than overall (a term of the KL divergence). Common-everywhere
            // terms score near zero, rare strays low.
            let size = group.members.len() as f32;
            let mut scored: Vec<(u8, f32, String)> = inside
                .into_iter()
                .map(|(key, weight)| {
                    let here = weight / size;
                    let everywhere = overall[&key] / image_count as f32;
                    // A category names a group only when most of its members have it.
                    let score = if key.0 == 0 && here < 0.5 { 0.0 } else { here * (here / everywhere).ln() };
                    (key.0, score, key.1)
                })
                .filter(|(_, score, _)| *score > 0.0)
                .collect();
            scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then_with(|| a.2.cmp(&b.2)));
            let mut texts: Vec<String> = Vec::new();
            for (_, _, text) in scored {
                if !texts.contains(&text) {
                    texts.push(text);
                }
            }
            texts
        })
        .collect();

    let mut names: Vec<String> = Vec::with_capacity(groups.len());
    for (g, terms) in ranked.iter().enumerate() {
        let mut name = String::new();
        for (used, term) in terms.iter().take(3).enumerate() {
            name = if used == 0 { term.clone() } else { format!("{name}, {term}") };
            // One term reads best; add more only while it collides with an earlier name.
            if !names.contains(&name) {
                break;
            }
        }
        if name.is_empty() {
            name = format!("Group {}", g + 1);
        }
        let base = name.clone();
        let mut copy = 2;
        while names.contains(&name) {
            name = format!("{base} ({copy})");
            copy += 1;
        }
        names.push(name);
    }
    names
}

/// The mean position of each group's members in `positions` (one layout).
pub fn centroids(groups: &[Group], positions: &[[f32; 3]]) -> Vec<[f32; 3]> {
    groups
        .iter()
        .map(|group| {
            let mut sum = [0f64; 3];
            for &m in &group.members {
                (0..3).for_each(|d| sum[d] += positions[m as usize][d] as f64);
            }
            sum.map(|s| (s / group.members.len() as f64) as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduce::Rng;

    /// Round blobs of the given sizes on a circle, in 2D, plus the same as vectors and labels.
    fn blobs(sizes: &[usize]) -> (Vec<[f32; 3]>, Points, Vec<usize>) {
        let mut rng = Rng::new(3);
        let mut positions = Vec::new();
        let mut labels = Vec::new();
        for (c, &size) in sizes.iter().enumerate() {
            let angle = c as f64 / sizes.len() as f64 * std::f64::consts::TAU;
            for _ in 0..size {
                let (x, y) = (angle.cos() + rng.normal() * 0.04, angle.sin() + rng.normal() * 0.04);
                positions.push([x as f32, y as f32, 0.0]);
                labels.push(c);
            }
        }
        let data = positions.iter().flat_map(|p| [p[0], p[1]]).collect();
        let n = positions.len();
        (positions, Points::new(data, n, 2), labels)
    }

    #[test]
    fn finds_separated_blobs_largest_first() {
        let (positions, vectors, labels) = blobs(&[60, 60, 90, 60, 60]);
        let groups =
            find(&positions, &vectors, &ClusterOptions { max_clusters: 10, min_cluster_size: Some(20) });
        assert_eq!(groups.len(), 5, "{groups:?}");
        assert!(groups.windows(2).all(|w| w[0].members.len() >= w[1].members.len()));
        assert_eq!(labels[groups[0].members[0] as usize], 2, "the largest blob comes first");
        for group in &groups {
            let label = labels[group.members[0] as usize];
            assert!(group.members.iter().all(|&m| labels[m as usize] == label), "a group mixes blobs");
            assert!(group.members.len() >= 50, "a blob lost most of its points: {}", group.members.len());
            assert!(group.members.contains(&group.representative));
        }
        let capped =
            find(&positions, &vectors, &ClusterOptions { max_clusters: 2, min_cluster_size: Some(20) });
        assert_eq!(capped, groups[..2]);
    }

    #[test]
    fn large_layouts_are_clustered_on_a_sample_and_every_point_joins() {
        let (positions, vectors, labels) = blobs(&[7000, 6000, 6000, 6000, 5000]);
        assert!(positions.len() > CLUSTER_SAMPLE);
        let groups = find(&positions, &vectors, &ClusterOptions::default());
        assert_eq!(groups.len(), 5, "{:?}", groups.iter().map(|g| g.members.len()).collect::<Vec<_>>());
        assert_eq!(labels[groups[0].members[0] as usize], 0, "the largest blob comes first");
        for group in &groups {
            let label = labels[group.members[0] as usize];
            assert!(group.members.iter().all(|&m| labels[m as usize] == label), "a group mixes blobs");
            let size = labels.iter().filter(|&&l| l == label).count();
            assert!(group.members.len() * 10 >= size * 9, "{} of {size}", group.members.len());
        }
    }

    #[test]
    fn medoid_is_the_central_member_not_an_outlier() {
        // Points on a line at 0, 1, 2, 3, 10: the medoid is 2 (sum 1+2+1+8 = 12 … vs 3: 15).
        let xs = [10.0, 0.0, 1.0, 3.0, 2.0];
        let vectors = Points::new(xs.to_vec(), 5, 1);
        assert_eq!(medoid(&[0, 1, 2, 3, 4], &vectors), 4);
        // Large groups take the sampled path and still land in the middle.
        let many: Vec<f32> = (0..5001).map(|i| i as f32).collect();
        let ids: Vec<u32> = (0..5001).collect();
        let m = medoid(&ids, &Points::new(many, 5001, 1));
        assert!((2400..=2600).contains(&m), "{m}");
    }

    #[test]
    fn degenerate_layouts_give_no_groups_and_no_panic() {
        let same = vec![[0.5f32, 0.5, 0.0]; 400];
        let vectors = Points::new(vec![1.0; 400], 400, 1);
        let groups = find(&same, &vectors, &ClusterOptions::default());
        assert!(groups.len() <= 1, "{groups:?}");
        let few = vec![[0.0f32, 0.0, 0.0], [1.0, 1.0, 0.0]];
        assert!(find(&few, &Points::new(vec![0.0, 1.0], 2, 1), &ClusterOptions::default()).is_empty());
        let nan = vec![[f32::NAN, 0.0, 0.0]; 50];
        assert!(find(&nan, &Points::new(vec![0.0; 50], 50, 1), &ClusterOptions::default()).is_empty());
    }

    #[test]
    fn names_pick_characteristic_terms_and_stay_unique() {
        let groups = vec![
            Group { members: vec![0, 1, 2], representative: 0 },
            Group { members: vec![3, 4, 5], representative: 3 },
            Group { members: vec![6, 7], representative: 6 },
            Group { members: vec![8, 9], representative: 8 },
        ];
        // Everything is "photo"; 0–2 are galaxies, 3–5 nebulae with some "galaxy" tags, 6–9 have
        // nothing but "photo" and "star" (so the last two groups need numbering).
        let term = |text: &str, weight| Term { tier: 1, text: text.into(), weight };
        let terms = |id: u32| -> Vec<Term> {
            let mut t = vec![term("photo", 0.9)];
            match id {
                0..=2 => t.push(term("galaxy", 0.8)),
                3..=5 => t.extend([term("nebula", 0.7), term("galaxy", 0.1)]),
                _ => t.push(term("star", 0.5)),
            }
            t
        };
        let names = names(&groups, &terms, 10);
        assert_eq!(names, ["galaxy", "nebula", "star", "star (2)"]);
        // A category (tier 0) names a group before a stronger auto-tag; the tag then tells two
        // groups of the same category apart.
        let with_category = |id: u32| -> Vec<Term> {
            let mut t = terms(id);
            if id < 6 {
                t.push(Term { tier: 0, text: "sky".into(), weight: 1.0 });
            }
            t
        };
        assert_eq!(super::names(&groups[..2], &with_category, 10), ["sky", "sky, nebula"]);
        let nothing = |_: u32| Vec::new();
        assert_eq!(super::names(&groups[..2], &nothing, 10), ["Group 1", "Group 2"]);
    }

    #[test]
    fn centroids_are_member_means() {
        let groups = vec![Group { members: vec![0, 2], representative: 0 }];
        let c = centroids(&groups, &[[0.0, 0.0, 0.0], [9.0, 9.0, 9.0], [1.0, -1.0, 0.5]]);
        assert_eq!(c, [[0.5, -0.5, 0.25]]);
    }
}
