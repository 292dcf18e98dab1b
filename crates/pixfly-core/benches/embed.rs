//! The embedding stage, in one process, float against int8:
//! - the network alone: images/s on the collection's images already decoded and prepared, the
//!   sessions and batches `build` uses; int8 ÷ float for lite0, and lite2's int8 against lite0's
//!   float (is the best network in int8 as fast as the default in float?);
//! - `build` end to end (cold cache, a fresh bundle each time): images/s, int8 ÷ float;
//! - pipeline efficiency: build ÷ network alone (1.0: decoding, thumbnails, atlases, caching and
//!   layouts cost nothing on top of the network).
//!
//! Run by `bench/embed.sh`, which fetches the default collection and passes its folder in
//! `PIXFLY_BENCH_COLLECTION`. Each measurement runs twice, interleaved; the best counts.

use pixfly_core::build::{BuildOptions, ModelOptions, Vectors, build};
use pixfly_core::embed::{self, Precision};
use pixfly_core::ingest;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

struct Network {
    options: ModelOptions,
    path: PathBuf,
    inputs: Vec<image::RgbImage>,
    alone: f64,
    build: f64,
}

impl Network {
    fn new(name: &str, precision: Precision, files: &[ingest::SourceFile]) -> Network {
        let options = ModelOptions { name: name.into(), precision, ..ModelOptions::default() };
        let path = embed::find_model(name, precision, options.device, None).unwrap_or_else(|e| panic!("{e}"));
        let info = embed::Model::load(&path, 1, options.device).unwrap_or_else(|e| panic!("{e}")).info;
        // The network's inputs, prepared up front (not timed), one per distinct readable image.
        let mut seen = std::collections::HashSet::new();
        let inputs = files
            .iter()
            .filter_map(|f| {
                let bytes = std::fs::read(&f.path).ok()?;
                seen.insert(blake3::hash(&bytes)).then_some(())?;
                let decoded = ingest::decode(&bytes, 256, embed::min_short_side(&info), u64::MAX).ok()?;
                Some(embed::model_input(&decoded.image, &info))
            })
            .collect();
        Network { options, path, inputs, alone: 0.0, build: 0.0 }
    }

    fn label(&self) -> String {
        format!("{} {:?}", self.options.name, self.options.precision).to_lowercase()
    }

    /// The same sessions and queue as `build`, fed with ready pictures.
    fn run_alone(&mut self) -> f64 {
        let o = &self.options;
        let sessions =
            embed::load_sessions(&self.path, o.threads, o.device).unwrap_or_else(|e| panic!("{e}"));
        let jobs: Vec<(usize, image::RgbImage)> = self.inputs.iter().cloned().enumerate().collect();
        let (queue, inbox) = std::sync::mpsc::sync_channel(64);
        let started = Instant::now();
        let feeder = std::thread::spawn(move || jobs.into_iter().try_for_each(|job| queue.send(job)));
        let count = AtomicUsize::new(0);
        let done = |_: usize, _: embed::Embedding| -> Result<(), embed::EmbedError> {
            count.fetch_add(1, Ordering::Relaxed);
            Ok(())
        };
        embed::serve(sessions, o.batch_size, inbox, &done).expect("inference runs");
        let rate = self.inputs.len() as f64 / started.elapsed().as_secs_f64();
        feeder.join().unwrap().unwrap();
        assert_eq!(count.into_inner(), self.inputs.len());
        self.alone = self.alone.max(rate);
        rate
    }

    fn run_build(&mut self, collection: &std::path::Path) -> f64 {
        let out = tempfile::tempdir().unwrap();
        let build_options = BuildOptions {
            vectors: Vectors::Model(self.options.clone()),
            ..BuildOptions::new(vec![collection.to_path_buf()], out.path().join("bundle"))
        };
        let started = Instant::now();
        let report = build(&build_options, &AtomicBool::new(false), &()).expect("build succeeds");
        let rate = report.embedded as f64 / started.elapsed().as_secs_f64();
        assert_eq!(report.embedded, self.inputs.len(), "build embedded every distinct image");
        self.build = self.build.max(rate);
        rate
    }
}

fn main() {
    let Some(collection) = std::env::var_os("PIXFLY_BENCH_COLLECTION").map(PathBuf::from) else {
        eprintln!("set PIXFLY_BENCH_COLLECTION to a folder of images (bench/embed.sh does)");
        return;
    };
    let files = ingest::discover(std::slice::from_ref(&collection)).expect("collection readable").files;
    let mut lite0 = [Precision::Fp32, Precision::Int8].map(|p| Network::new("lite0", p, &files));
    let mut lite2 = Network::new("lite2", Precision::Int8, &files);
    println!(
        "collection      {} ({} files, {} distinct images); batch {}, {} cores",
        collection.display(),
        files.len(),
        lite0[0].inputs.len(),
        lite0[0].options.batch_size,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("fast int8       {} (this CPU; `--precision auto` picks int8 where true)", embed::fast_int8());

    for round in 1..=2 {
        for network in lite0.iter_mut().chain([&mut lite2]) {
            let alone = network.run_alone();
            println!("round {round} {:<12} network alone {alone:6.1} images/s", network.label());
        }
        for network in &mut lite0 {
            let rate = network.run_build(&collection);
            println!("round {round} {:<12} build, cold cache {rate:6.1} images/s", network.label());
        }
    }
    let [float, int8] = &lite0;
    println!("network alone   lite0 int8 ÷ float {:.2} (goal ≥ 2)", int8.alone / float.alone);
    println!("network alone   lite2 int8 ÷ lite0 float {:.2}", lite2.alone / float.alone);
    println!(
        "build           lite0 int8 ÷ float {:.2} ({:.1} vs {:.1} images/s)",
        int8.build / float.build,
        int8.build,
        float.build
    );
    for network in &lite0 {
        println!(
            "pipeline efficiency {:<12} {:.2} (best build ÷ best network alone)",
            network.label(),
            network.build / network.alone
        );
    }
}
