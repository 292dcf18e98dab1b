//! pixfly's UMAP on one data set, stage by stage: the Rust half of `bench/umap.sh`, which
//! compares it with umap-learn on the same data in the same run.
//!
//! Reads `PIXFLY_BENCH_INPUT` (an `n × d` float32 `.npy`), writes `layout.npy` (`n × 2`), its
//! spread-out layout `spread.npy` and `hotspots.npy` (each point's hotspot, -1 for none) into
//! `PIXFLY_BENCH_OUTPUT`, and prints the seconds each stage took as one JSON line.
//! `PIXFLY_BENCH_METRIC` (euclidean), `PIXFLY_BENCH_INIT` (spectral | pca),
//! `PIXFLY_BENCH_PCA` (principal components kept; `reduce::search_dims` by default) and
//! `PIXFLY_BENCH_KNN` (auto | exact | descent) choose options; `PIXFLY_BENCH_SEED` the seed.
//!
//! For swapping stages with umap-learn's (bench/umap_ablation.py) it also writes what each stage
//! made — `knn_indices.npy`/`knn_dists.npy` (`n × k`, the point itself not included),
//! `graph_rows.npy`/`graph_cols.npy`/`graph_vals.npy` (the fuzzy graph, both directions) and
//! `start.npy` (the SGD's start before scaling) — and takes another's in their place from the
//! folder `PIXFLY_BENCH_NEIGHBOURS` (the kNN), `PIXFLY_BENCH_GRAPH` (the graph) or the file
//! `PIXFLY_BENCH_START` (`n × 2`).

use ndarray::{Array1, Array2};
use pixfly_core::reduce::knn::Neighbours;
use pixfly_core::reduce::umap::Graph;
use pixfly_core::reduce::{self, Metric, Points, clusters, knn, umap};
use std::path::{Path, PathBuf};
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
    let seed = std::env::var("PIXFLY_BENCH_SEED").map_or(42, |v| v.parse().unwrap());
    let options = umap::UmapOptions { init, seed, ..Default::default() };
    let output = PathBuf::from(output);
    let given = |name| std::env::var_os(name).map(PathBuf::from);

    let mut times: Vec<(&str, f64)> = Vec::new();
    let mut timed = |name, since: Instant| times.push((name, since.elapsed().as_secs_f64()));
    let t = Instant::now();
    let pca_dims = std::env::var("PIXFLY_BENCH_PCA").ok().map(|v| v.parse().unwrap());
    let prepared = reduce::prepare(&points, metric, pca_dims);
    timed("pca", t);
    let t = Instant::now();
    let k = options.n_neighbors - 1;
    let neighbours = match (given("PIXFLY_BENCH_NEIGHBOURS"), std::env::var("PIXFLY_BENCH_KNN").as_deref()) {
        (Some(folder), _) => read_neighbours(&folder),
        (None, Ok("exact")) => knn::nearest_with(&prepared, k, metric, options.seed, true),
        (None, Ok("descent")) => knn::nearest_with(&prepared, k, metric, options.seed, false),
        _ => knn::nearest(&prepared, k, metric, options.seed),
    };
    timed("knn", t);
    write_neighbours(&output, &neighbours);
    let t = Instant::now();
    let graph = match given("PIXFLY_BENCH_GRAPH") {
        Some(folder) => read_graph(&folder),
        None => umap::fuzzy_graph(&neighbours),
    };
    timed("graph", t);
    write_graph(&output, &graph);
    let t = Instant::now();
    let start = match given("PIXFLY_BENCH_START") {
        Some(file) => {
            ndarray_npy::read_npy::<_, Array2<f32>>(file)
                .expect("an n × 2 float32 .npy")
                .into_raw_vec_and_offset()
                .0
        }
        None => umap::initial_layout(&graph, &prepared, 2, &options),
    };
    timed("init", t);
    let save = Array2::from_shape_vec((n, 2), start.clone()).unwrap();
    ndarray_npy::write_npy(output.join("start.npy"), &save).expect("writable output folder");
    let t = Instant::now();
    let layout = umap::layout_from(&graph, start, 2, &options, &|_, _, _| {});
    timed("sgd", t);
    times.push(("init+sgd", times[3].1 + times[4].1));
    let total = times[0].1 + times[1].1 + times[2].1 + times[5].1;
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

    ndarray_npy::write_npy(output.join("hotspots.npy"), &labels).expect("writable output folder");
    let layout = Array2::from_shape_vec((n, 2), layout).unwrap();
    ndarray_npy::write_npy(output.join("layout.npy"), &layout).expect("writable output folder");
    let spread = Array2::from_shape_vec((n, 2), spread.iter().flat_map(|p| [p[0], p[1]]).collect()).unwrap();
    ndarray_npy::write_npy(output.join("spread.npy"), &spread).expect("writable output folder");
    let fields: Vec<String> = times.iter().map(|(k, v)| format!("\"{k}\": {v:.3}")).collect();
    println!("{{{}}}", fields.join(", "));
}

fn read_neighbours(folder: &Path) -> Neighbours {
    let indices: Array2<i64> =
        ndarray_npy::read_npy(folder.join("knn_indices.npy")).expect("knn_indices.npy");
    let distances: Array2<f32> = ndarray_npy::read_npy(folder.join("knn_dists.npy")).expect("knn_dists.npy");
    let (n, k) = indices.dim();
    let indices = indices.iter().map(|&i| i as u32).collect();
    Neighbours { n, k, indices, distances: distances.into_raw_vec_and_offset().0 }
}

fn write_neighbours(folder: &Path, neighbours: &Neighbours) {
    let shape = (neighbours.n, neighbours.k);
    let indices =
        Array2::from_shape_vec(shape, neighbours.indices.iter().map(|&i| i as i64).collect()).unwrap();
    let distances = Array2::from_shape_vec(shape, neighbours.distances.clone()).unwrap();
    ndarray_npy::write_npy(folder.join("knn_indices.npy"), &indices).expect("writable output folder");
    ndarray_npy::write_npy(folder.join("knn_dists.npy"), &distances).expect("writable output folder");
}

/// A graph from COO arrays (both directions of every edge), as CSR.
fn read_graph(folder: &Path) -> Graph {
    let read_i32 = |name| -> Array1<i32> { ndarray_npy::read_npy(folder.join(name)).expect(name) };
    let (rows, cols) = (read_i32("graph_rows.npy"), read_i32("graph_cols.npy"));
    let vals: Array1<f32> = ndarray_npy::read_npy(folder.join("graph_vals.npy")).expect("graph_vals.npy");
    let n = rows.iter().chain(cols.iter()).map(|&r| r as usize + 1).max().unwrap_or(0);
    let mut edges: Vec<(u32, u32, f32)> = (0..rows.len())
        .map(|e| (rows[e] as u32, cols[e] as u32, vals[e]))
        .filter(|e| e.0 != e.1 && e.2 > 0.0)
        .collect();
    edges.sort_by_key(|e| (e.0, e.1));
    let mut graph = Graph { offsets: vec![0; n + 1], targets: Vec::new(), weights: Vec::new() };
    for &(r, c, w) in &edges {
        graph.offsets[r as usize + 1] += 1;
        graph.targets.push(c);
        graph.weights.push(w);
    }
    for i in 0..n {
        graph.offsets[i + 1] += graph.offsets[i];
    }
    graph
}

fn write_graph(folder: &Path, graph: &Graph) {
    let rows: Array1<i32> =
        (0..graph.n()).flat_map(|i| std::iter::repeat_n(i as i32, graph.row(i).0.len())).collect();
    let cols: Array1<i32> = graph.targets.iter().map(|&c| c as i32).collect();
    let vals = Array1::from(graph.weights.clone());
    for (name, array) in [("graph_rows.npy", &rows), ("graph_cols.npy", &cols)] {
        ndarray_npy::write_npy(folder.join(name), array).expect("writable output folder");
    }
    ndarray_npy::write_npy(folder.join("graph_vals.npy"), &vals).expect("writable output folder");
}
