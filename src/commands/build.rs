//! `pixfly build INPUT... -o BUNDLE`

use crate::progress::Bars;
use anyhow::Context;
use pixfly_core::build::{BuildOptions, BuildReport, ModelOptions, USER_MODEL, Vectors, build};
use pixfly_core::embed::{self, Device, Precision};
use pixfly_core::reduce::{LayoutOptions, Metric, clusters::ClusterOptions, umap::UmapOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(clap::Args)]
pub struct BuildArgs {
    /// Folders (walked recursively), image files or glob patterns such as 'photos/**/*.jpg'.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The bundle folder to write (created if missing; re-running resumes).
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

/// How images become a bundle: the options `pixfly build` and `pixfly open` share.
#[derive(clap::Args)]
pub struct PipelineArgs {
    /// CSV with a `filename` column and PixPlot's optional columns (category, tags, year, …).
    #[arg(long)]
    metadata: Option<PathBuf>,
    /// Side of the square atlas cell each image is fitted into, in pixels.
    #[arg(long, default_value_t = 64)]
    cell: u32,
    /// Longest side of the close-up thumbnails, in pixels.
    #[arg(long, default_value_t = 256)]
    thumb: u32,
    /// Use only the first N files (by filename).
    #[arg(long)]
    max_images: Option<usize>,
    /// Skip images larger than this many megapixels (protects against decompression bombs).
    #[arg(long, default_value_t = 250)]
    max_megapixels: u64,
    /// The network that sees the images: lite0 (fast), lite1, lite2 (best), or an .onnx file.
    /// Install with scripts/fetch-model.sh NAME.
    #[arg(long, default_value = embed::DEFAULT_MODEL)]
    model: String,
    /// Run no network: the bundle gets only the grid layout.
    #[arg(long, conflicts_with = "model")]
    no_embed: bool,
    /// Bring your own vectors instead of running the network: a .npy matrix (with --list) or a
    /// CSV with a `filename` column and one column per dimension.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["model", "no_embed"])]
    embeddings: Option<PathBuf>,
    /// For a .npy --embeddings: the file name of each row, one per line.
    #[arg(long, value_name = "FILE", requires = "embeddings")]
    list: Option<PathBuf>,
    /// Images per network run.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    batch_size: u32,
    /// Where the network runs (cuda needs a build with the `cuda` feature and ONNX Runtime's GPU
    /// library).
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// The network's arithmetic: auto is int8 on CPUs with fast integer dot products (about twice
    /// as fast, same neighbours), float elsewhere and on GPUs; a bundle keeps the one it was built
    /// with when images are added. Ignored for an .onnx file.
    #[arg(long, value_enum, default_value_t = PrecisionArg::Auto)]
    precision: PrecisionArg,
    /// Neighbours each image weighs in the UMAP layouts: small values bring out fine local
    /// groups, large values the collection's overall shape.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(2..=200))]
    n_neighbors: u32,
    /// How tightly UMAP packs similar images, 0 to 1: small values give dense clumps.
    #[arg(long, default_value_t = 0.1)]
    min_dist: f32,
    /// How vectors are compared.
    #[arg(long, value_enum, default_value_t = MetricArg::Cosine)]
    metric: MetricArg,
    /// Seed for the layouts: the same seed and the same number of threads give the same layout.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Hotspots to keep (the largest groups of similar images).
    #[arg(long, default_value_t = 20)]
    max_clusters: usize,
    /// Fewest images that make a hotspot [default: 1% of the collection, at least 5].
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..))]
    min_cluster_size: Option<u32>,
    /// Lay every image out afresh. By default, building into a bundle that has a layout places
    /// new images among the old ones, which keep their places.
    #[arg(long)]
    relayout: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MetricArg {
    Cosine,
    Euclidean,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PrecisionArg {
    Auto,
    Fp32,
    Int8,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DeviceArg {
    Cpu,
    Cuda,
}

impl PipelineArgs {
    pub fn options(self, inputs: Vec<PathBuf>, output: PathBuf) -> BuildOptions {
        let args = self;
        BuildOptions {
            metadata: args.metadata,
            cell_size: args.cell,
            thumb_size: args.thumb,
            max_images: args.max_images,
            max_pixels: args.max_megapixels.saturating_mul(1_000_000),
            vectors: if args.no_embed {
                Vectors::None
            } else if let Some(path) = args.embeddings {
                Vectors::File { path, list: args.list }
            } else {
                Vectors::Model(ModelOptions {
                    name: args.model,
                    device: match args.device {
                        DeviceArg::Cpu => Device::Cpu,
                        DeviceArg::Cuda => Device::Cuda,
                    },
                    precision: match args.precision {
                        PrecisionArg::Auto => Precision::Auto,
                        PrecisionArg::Fp32 => Precision::Fp32,
                        PrecisionArg::Int8 => Precision::Int8,
                    },
                    batch_size: args.batch_size as usize,
                    ..ModelOptions::default()
                })
            },
            layout: LayoutOptions {
                metric: match args.metric {
                    MetricArg::Cosine => Metric::Cosine,
                    MetricArg::Euclidean => Metric::Euclidean,
                },
                umap: UmapOptions {
                    n_neighbors: args.n_neighbors as usize,
                    min_dist: args.min_dist,
                    seed: args.seed,
                    ..UmapOptions::default()
                },
                clusters: ClusterOptions {
                    max_clusters: args.max_clusters,
                    min_cluster_size: args.min_cluster_size.map(|m| m as usize),
                },
                ..LayoutOptions::default()
            },
            relayout: args.relayout,
            ..BuildOptions::new(inputs, output)
        }
    }
}

pub fn run(args: BuildArgs) -> anyhow::Result<()> {
    let options = args.pipeline.options(args.inputs, args.output.clone());
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::Relaxed) {
            std::process::exit(130); // a second Ctrl-C: stop now, the cache is still consistent
        }
        eprintln!("\nstopping after the images in progress (Ctrl-C again to stop now)…");
    })
    .context("cannot install the Ctrl-C handler")?;

    let bars = Bars::default();
    let result = build(&options, &cancel, &bars);
    bars.finish();
    let report = result?;
    print_summary(&report, &args.output);
    Ok(())
}

fn print_summary(r: &BuildReport, output: &std::path::Path) {
    let secs = r.elapsed.as_secs_f64();
    let handled = r.images + r.duplicates.len() + r.skipped.len();
    println!("bundle     {}", output.display());
    println!("images     {} in {} atlas(es)", r.images, r.atlases);
    println!("files      {} decoded, {} reused from the cache", r.decoded, r.from_cache);
    match r.model.as_deref() {
        Some(USER_MODEL) => println!("vectors    given with --embeddings for all {} images", r.images),
        Some(model) => {
            println!(
                "vectors    {} computed by {model}, {} reused from the cache",
                r.embedded, r.embeddings_from_cache
            )
        }
        None => {}
    }
    if !r.vectors_unmatched.is_empty() {
        let sample: Vec<&str> = r.vectors_unmatched.iter().take(5).map(String::as_str).collect();
        println!(
            "           {} vector row(s) matched no image, e.g. {}",
            r.vectors_unmatched.len(),
            sample.join(", ")
        );
    }
    let p = r.placement;
    if p.placed > 0 {
        println!(
            "layout     {} new image(s) placed among the {} laid out before, which kept their places",
            p.placed,
            r.images - p.placed
        );
    }
    if p.transformed > 0 {
        println!(
            "           {} placed so since the last full layout (of {}); --relayout lays all out afresh",
            p.transformed, p.fitted
        );
    }
    println!("time       {secs:.1} s ({:.0} images/s)", handled as f64 / secs.max(1e-9));
    if !r.duplicates.is_empty() {
        println!("duplicates {} (same content, one kept):", r.duplicates.len());
        for d in r.duplicates.iter().take(10) {
            println!("           {} = {}", d.filename, d.same_as);
        }
    }
    if !r.skipped.is_empty() {
        println!("skipped    {}:", r.skipped.len());
        for s in &r.skipped {
            println!("           {}: {}", s.filename, s.reason);
        }
    }
    if !r.walk_problems.is_empty() {
        println!("not read   {} path(s) (see warnings above)", r.walk_problems.len());
    }
    if r.metadata_rows > 0 {
        println!("metadata   {} of {} rows matched an image", r.metadata_matched, r.metadata_rows);
        if !r.metadata_unmatched.is_empty() {
            let sample: Vec<&str> = r.metadata_unmatched.iter().take(5).map(String::as_str).collect();
            println!("           unmatched, e.g. {}", sample.join(", "));
        }
    }
}
