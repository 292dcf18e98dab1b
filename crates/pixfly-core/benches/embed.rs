//! Pipeline efficiency of the embedding stage, in one process: `build`'s end-to-end images/s on
//! a collection ÷ the network's own images/s on the same images already decoded and prepared
//! (same model, batch size and threads). 1.0 would mean decoding, thumbnails, atlases and
//! caching cost nothing on top of the network.
//!
//! Run by `bench/embed.sh`, which fetches the default collection and passes its folder in
//! `PIXFLY_BENCH_COLLECTION`. Each measurement runs twice, interleaved; the best counts.

use pixfly_core::build::{BuildOptions, ModelOptions, Vectors, build};
use pixfly_core::embed::{self, Model};
use pixfly_core::ingest;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn main() {
    let Some(collection) = std::env::var_os("PIXFLY_BENCH_COLLECTION").map(PathBuf::from) else {
        eprintln!("set PIXFLY_BENCH_COLLECTION to a folder of images (bench/embed.sh does)");
        return;
    };
    let options = ModelOptions::default();
    let files = ingest::discover(std::slice::from_ref(&collection)).expect("collection readable").files;

    // The network's inputs, prepared up front (not timed), one per distinct readable image.
    let mut model = Model::load(&embed::find_model(&options.name).unwrap(), options.threads, options.device)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut seen = std::collections::HashSet::new();
    let inputs: Vec<image::RgbImage> = files
        .iter()
        .filter_map(|f| {
            let bytes = std::fs::read(&f.path).ok()?;
            seen.insert(blake3::hash(&bytes)).then_some(())?;
            let decoded = ingest::decode(&bytes, 256, embed::min_short_side(&model.info), u64::MAX).ok()?;
            Some(embed::model_input(&decoded.image, &model.info))
        })
        .collect();
    println!(
        "collection      {} ({} files, {} distinct images)",
        collection.display(),
        files.len(),
        inputs.len()
    );
    println!("model           {} (batch {}, threads {})", model.info.id, options.batch_size, options.threads);

    let mut best_model = 0f64;
    let mut best_build = 0f64;
    for round in 1..=2 {
        let started = Instant::now();
        for batch in inputs.chunks(options.batch_size) {
            model.embed(batch).expect("inference runs");
        }
        let model_rate = inputs.len() as f64 / started.elapsed().as_secs_f64();

        let out = tempfile::tempdir().unwrap();
        let build_options = BuildOptions {
            vectors: Vectors::Model(options.clone()),
            ..BuildOptions::new(vec![collection.clone()], out.path().join("bundle"))
        };
        let started = Instant::now();
        let report = build(&build_options, &AtomicBool::new(false), &()).expect("build succeeds");
        let build_rate = report.embedded as f64 / started.elapsed().as_secs_f64();
        assert_eq!(report.embedded, inputs.len(), "build embedded every distinct image");
        println!(
            "round {round}         network alone {model_rate:.1} images/s, build end to end {build_rate:.1} images/s"
        );
        best_model = best_model.max(model_rate);
        best_build = best_build.max(build_rate);
    }
    println!(
        "pipeline efficiency {:.2} (best build ÷ best network alone; goal ≥ 0.85)",
        best_build / best_model
    );
}
