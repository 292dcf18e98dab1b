//! pixfly's UMAP on one data set, stage by stage: the Rust half of `bench/umap.sh`, which
//! compares it with umap-learn on the same data in the same run.
//!
//! Reads `PIXFLY_BENCH_INPUT` (an `n × d` float32 `.npy`), writes `layout.npy` (`n × 2`), its
//! spread-out layout `spread.npy` and `hotspots.npy` (each point's hotspot, -1 for none) into
//! `PIXFLY_BENCH_OUTPUT`, and prints the seconds each stage took as one JSON line.
//! `PIXFLY_BENCH_METRIC` (euclidean), `PIXFLY_BENCH_INIT` (spectral | pca) and
//! `PIXFLY_BENCH_PCA` (principal components kept, 50) and `PIXFLY_BENCH_KNN` (auto | exact |
//! descent) choose options.

use ndarray::Array2;
use pixfly_core::reduce::{self, Metric, Points, clusters, knn, umap};
use std::time::Instant;

fn main() {
    let (Some(input), Some(output)) =
        (std::env::var_os("PIXFLY_BENCH_INPUT"), std::env::var_os("PIXFLY_BENCH_OUTPUT"))
    else {
        eprintln!("set PIXFLY_BENCH_INPUT and PIXFLY_BENCH_OUTPUT (bench/umap.sh does)");
        return;
    };
    let metric: Metric =
        std::env::var("PIXFLY_BENCH_METRIC").as_deref().unwrap_or("euclidean").parse().unwrap();
    let init = match std::env::var("PIXFLY_BENCH_INIT").as_deref() {
        Ok("pca") => umap::Init::Pca,
        _ => umap::Init::Spectral,
    };
    let data: Array2<f32> = ndarray_npy::read_npy(&input).expect("a float32 2-D .npy file");
    let (n, d) = data.dim();
    let points = Points::new(data.into_raw_vec_and_offset().0, n, d);
    let options = umap::UmapOptions { init, ..Default::default() };

    let mut times: Vec<(&str, f64)> = Vec::new();
    let mut timed = |name, since: Instant| times.push((name, since.elapsed().as_secs_f64()));
    let t = Instant::now();
    let pca_dims = std::env::var("PIXFLY_BENCH_PCA").map_or(reduce::PCA_DIMS, |v| v.parse().unwrap());
    let prepared = reduce::prepare(&points, metric, pca_dims);
    timed("pca", t);
    let t = Instant::now();
    let k = options.n_neighbors - 1;
    let neighbours = match std::env::var("PIXFLY_BENCH_KNN").as_deref() {
        Ok("exact") => knn::nearest_with(&prepared, k, metric, options.seed, true),
        Ok("descent") => knn::nearest_with(&prepared, k, metric, options.seed, false),
        _ => knn::nearest(&prepared, k, metric, options.seed),
    };
    timed("knn", t);
    let t = Instant::now();
    let graph = umap::fuzzy_graph(&neighbours);
    timed("graph", t);
    // The initial layout alone (no epochs), to see its share; the full run repeats it.
    let t = Instant::now();
    umap::layout(
        &graph,
        &prepared,
        2,
        &umap::UmapOptions { n_epochs: Some(0), ..options.clone() },
        &|_, _, _| {},
    );
    timed("init", t);
    let t = Instant::now();
    let layout = umap::layout(&graph, &prepared, 2, &options, &|_, _, _| {});
    timed("init+sgd", t);
    let total = times[0].1 + times[1].1 + times[2].1 + times[4].1;
    times.push(("total", total));
    // Hotspots over the normalised layout, as `pixfly build` finds them (not part of "total").
    let t = Instant::now();
    let positions =
        pixfly_core::layout::normalise(layout.chunks_exact(2).map(|p| [p[0], p[1], 0.0]).collect());
    let groups = clusters::find(&positions, &prepared, &clusters::ClusterOptions::default());
    times.push(("hotspots", t.elapsed().as_secs_f64()));
    // The spread-out layout made from it (`spread2d`), as `pixfly build` makes it (not part of
    // "total" either).
    let t = Instant::now();
    let spread = pixfly_core::layout::spread::spread(&positions, 2, pixfly_core::layout::spread::ROOM_2D);
    times.push(("spread2d", t.elapsed().as_secs_f64()));
    // With PIXFLY_BENCH_3D=1, UMAP 3D and its spread-out layout too, each timed.
    if std::env::var_os("PIXFLY_BENCH_3D").is_some() {
        let t = Instant::now();
        let layout3d = umap::layout(&graph, &prepared, 3, &options, &|_, _, _| {});
        times.push(("init+sgd3d", t.elapsed().as_secs_f64()));
        let positions3d =
            pixfly_core::layout::normalise(layout3d.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect());
        let t = Instant::now();
        pixfly_core::layout::spread::spread(&positions3d, 3, pixfly_core::layout::spread::ROOM_3D);
        times.push(("spread3d", t.elapsed().as_secs_f64()));
    }
    let mut labels = ndarray::Array1::<i32>::from_elem(n, -1);
    for (g, group) in groups.iter().enumerate() {
        group.members.iter().for_each(|&m| labels[m as usize] = g as i32);
    }

    let output = std::path::PathBuf::from(output);
    ndarray_npy::write_npy(output.join("hotspots.npy"), &labels).expect("writable output folder");
    let layout = Array2::from_shape_vec((n, 2), layout).unwrap();
    ndarray_npy::write_npy(output.join("layout.npy"), &layout).expect("writable output folder");
    let spread = Array2::from_shape_vec((n, 2), spread.iter().flat_map(|p| [p[0], p[1]]).collect()).unwrap();
    ndarray_npy::write_npy(output.join("spread.npy"), &spread).expect("writable output folder");
    let fields: Vec<String> = times.iter().map(|(k, v)| format!("\"{k}\": {v:.3}")).collect();
    println!("{{{}}}", fields.join(", "));
}
