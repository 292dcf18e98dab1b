//! Pipeline efficiency of the embedding stage, in one process: `build`'s end-to-end images/s on
//! a collection ÷ the network's own images/s on the same images already decoded and prepared
//! (same model, batch size and threads). 1.0 would mean decoding, thumbnails, atlases and
//! caching cost nothing on top of the network.
//!
//! Run by `bench/embed.sh`, which fetches the default collection and passes its folder in
//! `PIXFLY_BENCH_COLLECTION`. Each measurement runs twice, interleaved; the best counts.

use pixfly_core::build::{BuildOptions, ModelOptions, Vectors, build};
use pixfly_core::embed;
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
    let path = embed::find_model(&options.name, options.precision, options.device, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let load =
        || embed::load_sessions(&path, options.threads, options.device).unwrap_or_else(|e| panic!("{e}"));
    let info = load()[0].info.clone();
    let mut seen = std::collections::HashSet::new();
    let inputs: Vec<image::RgbImage> = files
        .iter()
        .filter_map(|f| {
            let bytes = std::fs::read(&f.path).ok()?;
            seen.insert(blake3::hash(&bytes)).then_some(())?;
            let decoded = ingest::decode(&bytes, 256, embed::min_short_side(&info), u64::MAX).ok()?;
            Some(embed::model_input(&decoded.image, &info))
        })
        .collect();
    println!(
        "collection      {} ({} files, {} distinct images)",
        collection.display(),
        files.len(),
        inputs.len()
    );
    println!("model           {} ({} sessions, batch {})", info.id, load().len(), options.batch_size);

    let mut best_model = 0f64;
    let mut best_build = 0f64;
    for round in 1..=2 {
        // The same sessions and queue as `build`, fed with ready pictures.
        let sessions = load();
        let jobs: Vec<(usize, image::RgbImage)> = inputs.iter().cloned().enumerate().collect();
        let (queue, inbox) = std::sync::mpsc::sync_channel(64);
        let started = Instant::now();
        let feeder = std::thread::spawn(move || jobs.into_iter().try_for_each(|job| queue.send(job)));
        let count = std::sync::atomic::AtomicUsize::new(0);
        let done = |_: usize, _: embed::Embedding| -> Result<(), embed::EmbedError> {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        };
        embed::serve(sessions, options.batch_size, inbox, &done).expect("inference runs");
        let model_rate = inputs.len() as f64 / started.elapsed().as_secs_f64();
        feeder.join().unwrap().unwrap();
        assert_eq!(count.into_inner(), inputs.len());

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
