//! UMAP layouts end to end through `reduce::places`: reproducible, faithful to cluster
//! structure, and well-behaved on degenerate inputs.

use pixfly_core::reduce::{self, LayoutOptions, Metric, Points, Rng, umap::UmapOptions};

/// `clusters` Gaussian blobs of `per` points in `dims` dimensions, centres `spread` apart on
/// average; returns the points and each one's blob.
fn blobs(clusters: usize, per: usize, dims: usize, spread: f64, seed: u64) -> (Points, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let centres: Vec<Vec<f64>> =
        (0..clusters).map(|_| (0..dims).map(|_| rng.normal() * spread).collect()).collect();
    let mut data = Vec::new();
    let mut labels = Vec::new();
    for i in 0..clusters * per {
        let c = i % clusters;
        data.extend(centres[c].iter().map(|m| (m + rng.normal()) as f32));
        labels.push(c);
    }
    (Points::new(data, clusters * per, dims), labels)
}

fn options(seed: u64) -> LayoutOptions {
    LayoutOptions {
        metric: Metric::Euclidean,
        umap: UmapOptions { seed, n_epochs: Some(200), ..Default::default() },
        ..Default::default()
    }
}

/// Fraction of points whose 15 nearest points in the layout mostly share their label.
fn knn_accuracy(positions: &[[f32; 3]], labels: &[usize], classes: usize) -> f64 {
    let n = positions.len();
    let distance = |a: &[f32; 3], b: &[f32; 3]| (0..3).map(|d| (a[d] - b[d]).powi(2)).sum::<f32>();
    let correct = (0..n)
        .filter(|&i| {
            let mut others: Vec<(f32, usize)> =
                (0..n).filter(|&j| j != i).map(|j| (distance(&positions[i], &positions[j]), j)).collect();
            others.select_nth_unstable_by(15, |a, b| a.0.total_cmp(&b.0));
            let mut votes = vec![0; classes];
            others[..15].iter().for_each(|&(_, j)| votes[labels[j]] += 1);
            (0..classes).max_by_key(|&c| votes[c]) == Some(labels[i])
        })
        .count();
    correct as f64 / n as f64
}

#[test]
fn separated_clusters_stay_separated_in_2d_and_3d() {
    let (points, labels) = blobs(6, 150, 24, 4.0, 1);
    let places = reduce::places(&points, &options(7), &());
    for (name, positions) in [("2D", &places.umap2d), ("3D", &places.umap3d)] {
        assert_eq!(positions.len(), points.n);
        assert!(positions.iter().flatten().all(|v| v.is_finite() && v.abs() <= 1.0 + 1e-5));
        let accuracy = knn_accuracy(positions, &labels, 6);
        println!("{name}: 15-NN label accuracy {accuracy:.3}");
        assert!(accuracy > 0.98, "{name}: 15-NN label accuracy {accuracy}");
    }
    assert!(places.umap2d.iter().all(|p| p[2] == 0.0));
    assert!(places.umap3d.iter().any(|p| p[2].abs() > 0.1), "3D layout is flat");
    // The "similar" lists are each point's nearest points: from its own blob.
    let same = (0..points.n)
        .flat_map(|i| places.similar.of(i).0.iter().map(move |&j| (i, j as usize)))
        .filter(|&(i, j)| labels[i] == labels[j])
        .count();
    assert_eq!(places.similar.k, reduce::SIMILAR);
    assert!(same as f64 > 0.99 * (points.n * reduce::SIMILAR) as f64);
}

#[test]
fn same_seed_same_layout_other_seed_other_layout() {
    // Overlapping blobs make one connected graph, so this exercises the spectral start.
    let (points, _) = blobs(3, 200, 16, 0.8, 2);
    let first = reduce::places(&points, &options(11), &());
    let again = reduce::places(&points, &options(11), &());
    assert_eq!(first, again);
    let other = reduce::places(&points, &options(12), &());
    assert_ne!(first.umap2d, other.umap2d);
}

#[test]
fn degenerate_inputs_give_finite_layouts() {
    let check = |points: Points, what: &str| {
        let places = reduce::places(&points, &options(3), &());
        for positions in [&places.umap2d, &places.umap3d] {
            assert_eq!(positions.len(), points.n, "{what}");
            assert!(positions.iter().flatten().all(|v| v.is_finite()), "{what}: {positions:?}");
        }
        assert_eq!(places.similar.n, points.n);
        assert!(places.similar.indices.iter().all(|&j| (j as usize) < points.n), "{what}");
    };
    check(Points::new(vec![], 0, 8), "no points");
    check(Points::new(vec![0.5; 8], 1, 8), "one point");
    check(Points::new(vec![0.5, 1.0, 0.25, -1.0], 2, 2), "two points");
    check(blobs(1, 5, 8, 1.0, 4).0, "fewer points than neighbours");
    check(Points::new(vec![1.0; 60 * 10], 60, 10), "all the same");
    let (mut with_zero, _) = blobs(2, 40, 10, 3.0, 5);
    with_zero.data[..10].fill(0.0);
    check(with_zero, "a zero vector under the cosine metric");
    let (mut cosine, _) = blobs(2, 40, 10, 3.0, 6);
    cosine.data[..10].fill(0.0);
    let places = reduce::places(&cosine, &LayoutOptions { metric: Metric::Cosine, ..options(1) }, &());
    assert!(places.umap2d.iter().flatten().all(|v| v.is_finite()));
}
