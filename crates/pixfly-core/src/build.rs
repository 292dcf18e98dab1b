//! `pixfly build`: a folder of images in, a bundle out.
//!
//! Stages run in one direction: find files → read, hash and thumbnail each (parallel, cached by
//! content hash) → drop duplicates → join metadata → pack atlases → layouts → manifest (last,
//! atomic). Every bundle file but the cache is content-named, so a run that dies part-way leaves
//! the previous manifest pointing at files that are still there.

use crate::atlas::{self, AtlasGrid};
use crate::bundle::ownership::{self, FolderKind, Protected};
use crate::bundle::write::{WriteError, write_atomic};
use crate::bundle::{
    self, Atlas, Cluster, EMBEDDINGS_FILE, EmbeddingInfo, ImageRecord, Layout, MANIFEST_FILE, Manifest,
    NeighboursInfo, SCHEMA_VERSION,
};
use crate::cache::{CachedImage, ImageCache};
use crate::embed::vectors::{UserVectors, VectorsError, read_user_vectors};
use crate::embed::{self, Device, EmbedError, Embedding, EmbeddingCache, ModelInfo, Precision};
use crate::ingest::{self, DecodeError, SourceFile, WalkProblem};
use crate::layout;
use crate::metadata::{MetadataErrors, read_metadata_csv};
use crate::reduce::clusters::Term;
use crate::reduce::update::{Fit, Placement};
use crate::reduce::{self, LayoutOptions, Points};
use image::RgbImage;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

pub const ATLAS_QUALITY: u8 = 90;

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub inputs: Vec<PathBuf>,
    pub output: PathBuf,
    pub metadata: Option<PathBuf>,
    pub cell_size: u32,
    pub thumb_size: u32,
    /// Take only the first N files (in filename order).
    pub max_images: Option<usize>,
    pub max_pixels: u64,
    /// Where the images' feature vectors come from.
    pub vectors: Vectors,
    /// How the vectors become layouts (UMAP's parameters).
    pub layout: LayoutOptions,
    /// Lay every image out afresh, rather than place new images among those the bundle has.
    pub relayout: bool,
}

/// The source of the feature vectors that place similar images together.
#[derive(Debug, Clone, PartialEq)]
pub enum Vectors {
    /// None: the bundle gets only the layouts that need no vectors (the grid).
    None,
    /// A pretrained network run on every image.
    Model(ModelOptions),
    /// The user's own: a `.npy` matrix with a `list` of file names (one per row), or a CSV with
    /// a `filename` column (see [`embed::vectors::read_user_vectors`]).
    File { path: PathBuf, list: Option<PathBuf> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelOptions {
    /// `lite0`, `lite1`, `lite2` or the path of an `.onnx` file (see [`embed::find_model`]).
    pub name: String,
    pub device: Device,
    /// Float or int8 arithmetic (see [`embed::find_model`]).
    pub precision: Precision,
    /// Images per network run.
    pub batch_size: usize,
    /// ONNX Runtime's threads; 0 for one per core.
    pub threads: usize,
}

impl Default for ModelOptions {
    fn default() -> ModelOptions {
        ModelOptions {
            name: embed::DEFAULT_MODEL.into(),
            device: Device::Cpu,
            precision: Precision::Auto,
            batch_size: 32,
            threads: 0,
        }
    }
}

impl BuildOptions {
    pub fn new(inputs: Vec<PathBuf>, output: PathBuf) -> BuildOptions {
        BuildOptions {
            inputs,
            output,
            metadata: None,
            cell_size: 64,
            thumb_size: 256,
            max_images: None,
            max_pixels: ingest::DEFAULT_MAX_PIXELS,
            vectors: Vectors::Model(ModelOptions::default()),
            layout: LayoutOptions::default(),
            relayout: false,
        }
    }
}

/// How a long build tells the outside world how far it is (a progress bar, a Bevy resource)
/// and, for whoever shows the collection while it assembles (`pixfly open`), what it has made so
/// far. Calls come from the build's worker threads, in no particular order between images.
pub trait Progress: Sync {
    /// A new stage begins with `total` units of work.
    fn stage(&self, name: &str, total: u64);
    /// One unit of the current stage is done.
    fn advance(&self);
    /// The network is loaded: its auto-tags are indices into `info.classes`.
    fn network(&self, _info: &ModelInfo) {}
    /// A file was read and its thumbnails are in `cache` (under `hash`). A file with the same
    /// content as one already read is not reported.
    fn image_read(&self, _file: &SourceFile, _hash: &str, _image: &CachedImage, _cache: &ImageCache) {}
    /// A file could not be used.
    fn image_skipped(&self, _file: &SourceFile, _reason: &str) {}
    /// The network has embedded the image with this content hash.
    fn image_embedded(&self, _hash: &str, _embedding: &Embedding) {}
    /// UMAP has finished `epoch` of `epochs` in `dims` dimensions; `coordinates` are its raw
    /// positions (`dims` values per vector, in the order of the bundle's images).
    fn layout_epoch(&self, _dims: usize, _epoch: usize, _epochs: usize, _coordinates: &[f32]) {}
}

/// For callers that don't show progress.
impl Progress for () {
    fn stage(&self, _: &str, _: u64) {}
    fn advance(&self) {}
}

#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub filename: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    pub filename: String,
    /// The file that was kept.
    pub same_as: String,
}

#[derive(Debug, Clone, Default)]
pub struct BuildReport {
    /// Images in the bundle.
    pub images: usize,
    /// Kept images decoded in this run; the rest came from the cache.
    pub decoded: usize,
    pub from_cache: usize,
    /// The network that embedded the images, if one did.
    pub model: Option<String>,
    /// Kept images the network ran on in this run; the rest had cached vectors.
    pub embedded: usize,
    pub embeddings_from_cache: usize,
    /// Rows of `--embeddings` that no image used.
    pub vectors_unmatched: Vec<String>,
    pub skipped: Vec<Skipped>,
    pub duplicates: Vec<Duplicate>,
    pub walk_problems: Vec<WalkProblem>,
    pub metadata_rows: usize,
    pub metadata_matched: usize,
    /// Metadata rows that no image used.
    pub metadata_unmatched: Vec<String>,
    pub atlases: usize,
    /// How the similarity layouts came about: images placed among the old ones in this build,
    /// and since the last full layout.
    pub placement: Placement,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Options(String),
    #[error(transparent)]
    Discover(#[from] ingest::discover::DiscoverError),
    #[error(transparent)]
    Metadata(#[from] MetadataErrors),
    #[error("no usable images found in the inputs ({skipped} skipped)")]
    NoImages { skipped: usize },
    #[error("will not write the bundle there: {0}")]
    Output(String),
    #[error(
        "{0}; nothing is lost: the finished images are cached, so run the same command again once it can write"
    )]
    Write(#[from] WriteError),
    #[error(
        "the cached atlas cell of {filename} is unreadable ({reason}); delete the bundle's cache folder and build again"
    )]
    Cache { filename: String, reason: String },
    #[error("interrupted: {finished} images are cached; run the same command again to resume")]
    Cancelled { finished: usize },
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Vectors(#[from] VectorsError),
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    Ok(write_atomic(path, bytes)?)
}

/// What happened to one input file.
#[derive(Clone)]
enum Outcome {
    /// `cached`: its thumbnails came from the cache; `queued`: it waits for the network.
    Ready {
        hash: String,
        image: CachedImage,
        cached: bool,
        queued: bool,
    },
    /// `hash` is known when the file could be read.
    Skipped {
        hash: Option<String>,
        reason: String,
    },
    /// Same content as a file another thread took on: that file's outcome is this one's too.
    Twin {
        hash: String,
    },
    Cancelled,
    /// Writing its cache entry into the bundle failed: the build stops.
    Failed(std::sync::Arc<WriteError>),
}

/// A picture on its way to the network, and the content hash it is cached under.
type ModelJob = (String, RgbImage);

/// What ingestion needs to feed the network.
struct Feed<'a> {
    info: &'a ModelInfo,
    cache: &'a EmbeddingCache,
    queue: SyncSender<ModelJob>,
}

/// The manifest the output folder has from its last build, if any and readable (for the
/// network it was built with, and its atlas cells).
fn previous_manifest(output: &Path) -> Option<Manifest> {
    let bytes = std::fs::read(output.join(MANIFEST_FILE)).ok()?;
    bundle::parse_manifest(&bytes).ok()
}

/// What the last build packed, to keep: each image's slot by content, and each atlas with the
/// images it held (slot, content) — all empty when the cell size changed or a relayout asks
/// for everything afresh.
#[derive(Default)]
struct PreviousAtlases {
    slots: HashMap<String, u32>,
    pages: Vec<(Atlas, Vec<(u32, String)>)>,
}

impl PreviousAtlases {
    fn of(previous: Option<&Manifest>, grid: &AtlasGrid, options: &BuildOptions) -> PreviousAtlases {
        let Some(manifest) = previous.filter(|m| m.cell_size == options.cell_size && !options.relayout)
        else {
            return PreviousAtlases::default();
        };
        let mut pages: Vec<(Atlas, Vec<(u32, String)>)> =
            manifest.atlases.iter().map(|a| (a.clone(), Vec::new())).collect();
        let mut slots = HashMap::new();
        for image in &manifest.images {
            let slot = grid.slot_at(image.atlas, image.rect[0], image.rect[1]);
            if let Some((_, members)) = pages.get_mut(image.atlas as usize) {
                members.push((slot, image.hash.clone()));
                slots.insert(image.hash.clone(), slot);
            }
        }
        pages.iter_mut().for_each(|(_, members)| members.sort_unstable());
        PreviousAtlases { slots, pages }
    }
}

/// Run the whole build. `cancel` stops it between images (Ctrl-C); a later run resumes.
pub fn build(
    options: &BuildOptions,
    cancel: &AtomicBool,
    progress: &dyn Progress,
) -> Result<BuildReport, BuildError> {
    let started = Instant::now();
    check_options(options)?;
    // Read the CSV first: a typo there should stop the run before an hour of decoding.
    let metadata = options.metadata.as_deref().map(read_metadata_csv).transpose()?;
    let user_vectors = match &options.vectors {
        Vectors::File { path, list } => Some(read_user_vectors(path, list.as_deref())?),
        _ => None,
    };

    let inputs: Vec<Protected> = options
        .inputs
        .iter()
        .map(|input| {
            let (path, reads_folders) = ingest::discover::input_root(input);
            Protected { path, what: "the input", inside_allowed: !reads_folders }
        })
        .collect();
    ownership::claim(&options.output, FolderKind::Bundle, &inputs).map_err(BuildError::Output)?;

    let mut found = ingest::discover(&options.inputs)?;
    for problem in &found.problems {
        tracing::warn!("skipping {}: {}", problem.path.display(), problem.reason);
    }
    if let Some(max) = options.max_images {
        found.files.truncate(max);
    }
    let filenames = || found.files.iter().map(|f| f.filename.as_str());
    if let Some(table) = &metadata {
        table.check_unambiguous(filenames())?;
    }
    if let Some(vectors) = &user_vectors {
        vectors.check_unambiguous(filenames())?;
    }
    let cache = ImageCache::new(&options.output, options.cell_size, options.thumb_size);
    let previous = previous_manifest(&options.output);

    let (sessions, batch_size) = match &options.vectors {
        Vectors::Model(m) => {
            let built_with = previous.as_ref().and_then(|m| m.embedding.as_ref()).map(|e| e.model.clone());
            let path = embed::find_model(&m.name, m.precision, m.device, built_with.as_deref())?;
            (embed::load_sessions(&path, m.threads, m.device)?, m.batch_size)
        }
        Vectors::None | Vectors::File { .. } => (Vec::new(), 0),
    };
    let embed_cache = sessions.first().map(|m| EmbeddingCache::new(&options.output, &m.info));
    let model_info = sessions.first().map(|m| m.info.clone());
    if let Some(info) = &model_info {
        progress.network(info);
    }
    let stage = if model_info.is_some() { "Reading, embedding" } else { "Reading images" };
    progress.stage(stage, found.files.len() as u64);
    // Decoding (rayon) and the network (its own threads) overlap; the bounded queue between them
    // keeps memory flat and lets whichever is slower set the pace.
    let stop = AtomicBool::new(false);
    let (queue, inbox) = std::sync::mpsc::sync_channel::<ModelJob>(64);
    let (outcomes, model_result) = std::thread::scope(|scope| {
        let runner = embed_cache.as_ref().map(|cache| {
            let stop = &stop;
            scope.spawn(move || {
                let keep = |hash: String, embedding: Embedding| -> Result<(), BuildError> {
                    progress.advance();
                    cache.put(&hash, &embedding)?;
                    progress.image_embedded(&hash, &embedding);
                    Ok(())
                };
                let result = embed::serve(sessions, batch_size, inbox, &keep);
                // On failure, stop feeding it (the error is reported below).
                stop.store(result.is_err(), Ordering::Relaxed);
                result
            })
        });
        let feed =
            model_info.as_ref().zip(embed_cache.as_ref()).map(|(info, cache)| Feed { info, cache, queue });
        let claimed = Mutex::new(HashSet::new());
        let outcomes: Vec<Outcome> = found
            .files
            .par_iter()
            .map(|file| {
                let outcome = if cancel.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                    Outcome::Cancelled
                } else {
                    ingest_one(file, options, &cache, feed.as_ref(), &claimed)
                };
                match &outcome {
                    Outcome::Ready { hash, image, .. } => progress.image_read(file, hash, image, &cache),
                    Outcome::Skipped { reason, .. } => progress.image_skipped(file, reason),
                    // Our own write failed: the rest would too.
                    Outcome::Failed(_) => stop.store(true, Ordering::Relaxed),
                    Outcome::Twin { .. } | Outcome::Cancelled => {}
                }
                if !matches!(outcome, Outcome::Ready { queued: true, .. }) {
                    progress.advance();
                }
                outcome
            })
            .collect();
        drop(feed); // closes the queue: the network finishes what is left and returns
        let model_result = runner.map(|r| r.join().expect("the network thread does not panic"));
        (outcomes, model_result)
    });
    model_result.transpose()?;
    // Our own output failing (a full disk) is not an image's fault: stop, naming the file.
    if let Some(Outcome::Failed(error)) = outcomes.iter().find(|o| matches!(o, Outcome::Failed(_))) {
        return Err(BuildError::Write(WriteError {
            path: error.path.clone(),
            cause: std::io::Error::new(error.cause.kind(), error.cause.to_string()),
        }));
    }

    tracing::debug!("read {} files in {:.2?}", found.files.len(), started.elapsed());
    let mut report = BuildReport { walk_problems: found.problems, ..Default::default() };
    let mut kept: Vec<(&SourceFile, String, CachedImage)> = Vec::new();
    let mut first_with_hash: HashMap<String, &str> = HashMap::new();
    let mut cancelled = false;
    let by_hash: HashMap<String, Outcome> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Ready { hash, .. } | Outcome::Skipped { hash: Some(hash), .. } => {
                Some((hash.clone(), o.clone()))
            }
            _ => None,
        })
        .collect();
    for (file, outcome) in found.files.iter().zip(outcomes) {
        let outcome = match outcome {
            Outcome::Twin { hash } => by_hash.get(&hash).cloned().unwrap_or(Outcome::Cancelled),
            outcome => outcome,
        };
        match outcome {
            Outcome::Ready { hash, image, cached, queued } => {
                if let Some(&same_as) = first_with_hash.get(&hash) {
                    tracing::debug!("{} is a duplicate of {same_as}; keeping one", file.filename);
                    report
                        .duplicates
                        .push(Duplicate { filename: file.filename.clone(), same_as: same_as.into() });
                    continue;
                }
                // A duplicate's outcome is its twin's: count the work once.
                if cached {
                    report.from_cache += 1
                } else {
                    report.decoded += 1
                }
                if queued {
                    report.embedded += 1
                } else if model_info.is_some() {
                    report.embeddings_from_cache += 1
                }
                first_with_hash.insert(hash.clone(), &file.filename);
                kept.push((file, hash, image));
            }
            Outcome::Skipped { reason, .. } => {
                tracing::warn!("skipping {}: {reason}", file.path.display());
                report.skipped.push(Skipped { filename: file.filename.clone(), reason });
            }
            Outcome::Cancelled | Outcome::Twin { .. } | Outcome::Failed(_) => cancelled = true,
        }
    }
    if cancelled {
        return Err(BuildError::Cancelled { finished: report.decoded + report.from_cache });
    }
    if kept.is_empty() {
        return Err(BuildError::NoImages { skipped: report.skipped.len() });
    }

    let grid = AtlasGrid::new(options.cell_size);
    let packed = PreviousAtlases::of(previous.as_ref(), &grid, options);
    let slots = atlas::assign_slots(
        &kept.iter().map(|(_, hash, _)| packed.slots.get(hash).copied()).collect::<Vec<_>>(),
    );
    let mut used_rows = HashSet::new();
    let images: Vec<ImageRecord> = kept
        .iter()
        .zip(&slots)
        .enumerate()
        .map(|(id, ((file, hash, image), &slot))| {
            let (atlas, rect) = grid.place(slot, image.cell_width, image.cell_height);
            let row = metadata.as_ref().and_then(|table| table.lookup(&file.filename));
            if let Some((key, _)) = row {
                used_rows.insert(key);
            }
            ImageRecord {
                id: id as u32,
                filename: file.filename.clone(),
                thumb: cache.thumb_path(hash),
                width: image.width,
                height: image.height,
                atlas,
                rect,
                hash: hash.clone(),
                metadata: row.map(|(_, m)| m.clone()).unwrap_or_default(),
                auto_tags: Vec::new(),
            }
        })
        .collect();
    if let Some(table) = &metadata {
        // A duplicate's row is not "unmatched": its image is in the bundle under another name.
        for duplicate in &report.duplicates {
            if let Some((key, _)) = table.lookup(&duplicate.filename) {
                used_rows.insert(key);
            }
        }
        report.metadata_rows = table.len();
        report.metadata_matched = used_rows.len();
        report.metadata_unmatched = table.unmatched(&used_rows).into_iter().map(String::from).collect();
    }

    let mut images = images;
    let embedded = match (&model_info, &embed_cache, &user_vectors) {
        (Some(info), Some(embed_cache), _) => {
            report.model = Some(info.id.clone());
            Some(model_embeddings(&options.output, info, embed_cache, &mut images)?)
        }
        (_, _, Some(vectors)) => {
            report.model = Some(USER_MODEL.into());
            report.embeddings_from_cache = images.len();
            let (embedding, unmatched) =
                user_embeddings(&options.output, vectors, &images, &report.duplicates)?;
            report.vectors_unmatched = unmatched;
            Some(embedding)
        }
        _ => None,
    };

    let atlases =
        write_atlases(&options.output, &grid, &images, &slots, &packed.pages, &cache, cancel, progress)?;
    tracing::debug!("packed {} atlases by {:.2?}", atlases.len(), started.elapsed());
    let (embedding, vectors) = embedded.unzip();

    // The first layout is the one a viewer opens with: by similarity with every image in view,
    // when there are vectors.
    let mut placed: Vec<(&str, &str, u8, Vec<[f32; 3]>)> = Vec::new();
    let mut neighbours = None;
    let mut hotspots = Vec::new();
    if let Some(vectors) = &vectors
        && vectors.n >= 2
    {
        if cancel.load(Ordering::Relaxed) {
            return Err(BuildError::Cancelled { finished: images.len() });
        }
        let hashes: Vec<&str> = images.iter().map(|i| i.hash.as_str()).collect();
        let model = embedding.as_ref().map_or("", |e| e.model.as_str());
        let key = Fit::key(model, &options.layout);
        let previous = if options.relayout { None } else { Fit::read(&options.output, &key) };
        let (places, fit, placement) =
            reduce::update::places(vectors, &hashes, previous, &key, &options.layout, progress);
        fit.write(&options.output)?;
        report.placement = placement;
        let snapped = layout::snap_to_grid(&places.umap2d);
        let spread2d = layout::spread::spread(&places.umap2d, 2, layout::spread::ROOM_2D);
        let spread3d = layout::spread::spread(&places.umap3d, 3, layout::spread::ROOM_3D);
        placed.push(("spread2d", "By similarity (every image in view)", 2, spread2d));
        placed.push(("spread3d", "By similarity in 3D (every image in view)", 3, spread3d));
        placed.push(("umap3d", "UMAP 3D (by similarity)", 3, places.umap3d));
        placed.push(("umap2d", "UMAP 2D (by similarity)", 2, places.umap2d));
        placed.push(("similarity-grid", "Grid (by similarity)", 2, snapped));
        let bytes = bundle::encode_neighbours(&places.similar.indices);
        let path = format!("neighbours/{}.u32", short_hash(&bytes));
        write(&options.output.join(&path), &bytes)?;
        neighbours = Some(NeighboursInfo { k: places.similar.k as u32, path });
        hotspots = places.hotspots;
    }
    let records: Vec<&bundle::Metadata> = images.iter().map(|i| &i.metadata).collect();
    let similar = placed.iter().find(|l| l.0 == "umap2d").map(|l| l.3.as_slice());
    let from_metadata = layout::metadata::layouts(&records, similar);
    for extra in from_metadata {
        placed.push((extra.name, extra.title, extra.dims, extra.positions));
    }
    placed.push(("grid", "Grid (by filename)", 2, layout::grid(images.len())));
    let layouts = placed
        .iter()
        .map(|(name, title, dims, positions)| write_layout(&options.output, name, title, *dims, positions))
        .collect::<Result<Vec<_>, _>>()?;
    let clusters = name_hotspots(hotspots, &images, embedding.as_ref(), &placed);

    let manifest = Manifest {
        format: bundle::FORMAT_NAME.into(),
        version: SCHEMA_VERSION,
        generator: format!("pixfly {}", env!("CARGO_PKG_VERSION")),
        image_count: images.len() as u32,
        cell_size: options.cell_size,
        thumb_size: options.thumb_size,
        atlases,
        layouts,
        images,
        clusters,
        embedding,
        neighbours,
    };
    // What we write must pass the same checks every reader applies.
    bundle::validate_manifest(&manifest).map_err(|e| BuildError::Options(format!("internal error: {e}")))?;
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    let previous = ownership::listed_files(&options.output);
    write(&options.output.join(MANIFEST_FILE), &json)?;
    ownership::remove_superseded(&options.output, &previous, manifest.files());

    report.images = manifest.images.len();
    report.atlases = manifest.atlases.len();
    report.elapsed = started.elapsed();
    Ok(report)
}

fn check_options(options: &BuildOptions) -> Result<(), BuildError> {
    if !(4..=bundle::MAX_ATLAS_SIZE).contains(&options.cell_size) {
        return Err(BuildError::Options(format!("--cell {} must be between 4 and 4096", options.cell_size)));
    }
    if !(16..=4096).contains(&options.thumb_size) {
        return Err(BuildError::Options(format!(
            "--thumb {} must be between 16 and 4096",
            options.thumb_size
        )));
    }
    if options.inputs.is_empty() {
        return Err(BuildError::Options("give at least one INPUT folder, file or glob".into()));
    }
    let umap = &options.layout.umap;
    if !(0.0..=umap.spread).contains(&umap.min_dist) {
        return Err(BuildError::Options(format!(
            "--min-dist {} must be between 0 and {}",
            umap.min_dist, umap.spread
        )));
    }
    if umap.n_neighbors < 2 {
        return Err(BuildError::Options(format!("--n-neighbors {} must be at least 2", umap.n_neighbors)));
    }
    Ok(())
}

/// Read, hash, and (unless cached) decode, thumbnail and queue for the network one file; a
/// file whose content another file has `claimed` is left to that one. Never panics: a decoder
/// bug on a hostile file becomes a skipped file.
fn ingest_one(
    file: &SourceFile,
    options: &BuildOptions,
    cache: &ImageCache,
    feed: Option<&Feed>,
    claimed: &Mutex<HashSet<String>>,
) -> Outcome {
    let bytes = match std::fs::read(&file.path) {
        Ok(b) => b,
        Err(e) => return Outcome::Skipped { hash: None, reason: format!("cannot read: {e}") },
    };
    let hash = blake3::hash(&bytes).to_hex().to_string();
    if !claimed.lock().expect("no thread panics holding it").insert(hash.clone()) {
        return Outcome::Twin { hash };
    }
    let skipped = |reason: String| Outcome::Skipped { hash: Some(hash.clone()), reason };
    let cached = cache.get(&hash);
    let feed = feed.filter(|feed| feed.cache.get(&hash).is_none());
    if let (Some(image), None) = (cached, feed) {
        return Outcome::Ready { hash, image, cached: true, queued: false };
    }
    let work = || -> Result<(CachedImage, Option<ingest::Thumbnails>, Option<RgbImage>), DecodeError> {
        let min_long = options.thumb_size.max(options.cell_size);
        let min_short = feed.map_or(0, |feed| embed::min_short_side(feed.info));
        let decoded = ingest::decode(&bytes, min_long, min_short, options.max_pixels)?;
        let model_input = feed.map(|feed| embed::model_input(&decoded.image, feed.info));
        if let Some(image) = cached {
            return Ok((image, None, model_input));
        }
        let thumbs = ingest::make_thumbnails(decoded.image, options.thumb_size, options.cell_size);
        let record = CachedImage {
            width: decoded.width,
            height: decoded.height,
            cell_width: thumbs.cell.width(),
            cell_height: thumbs.cell.height(),
        };
        Ok((record, Some(thumbs), model_input))
    };
    let (image, thumbs, model_input) = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return skipped(e.to_string()),
        Err(_) => return skipped("the decoder failed on this file (please report it)".into()),
    };
    if let Some(thumbs) = &thumbs
        && let Err(e) = cache.put(&hash, image, &thumbs.thumb, &thumbs.cell)
    {
        return Outcome::Failed(std::sync::Arc::new(e));
    }
    let queued = match (feed, model_input) {
        (Some(feed), Some(input)) => {
            if feed.queue.send((hash.clone(), input)).is_err() {
                return Outcome::Cancelled; // the network stopped; its error is reported
            }
            true
        }
        _ => false,
    };
    Outcome::Ready { hash, image, cached: thumbs.is_none(), queued }
}

/// Write `embeddings.npy` (rows in image order) from the cache, and give each image its auto-tags.
fn model_embeddings(
    output: &Path,
    info: &ModelInfo,
    cache: &EmbeddingCache,
    images: &mut [ImageRecord],
) -> Result<(EmbeddingInfo, Points), BuildError> {
    let mut vectors = Vec::with_capacity(images.len());
    for image in images.iter_mut() {
        let embedding = cache.get(&image.hash).ok_or_else(|| BuildError::Cache {
            filename: image.filename.clone(),
            reason: format!("{} is missing or damaged", cache.path(&image.hash).display()),
        })?;
        // Three decimals are plenty for ranking and keep the manifest small.
        image.auto_tags =
            embedding.top_classes.iter().map(|&(class, p)| (class, (p * 1000.0).round() / 1000.0)).collect();
        vectors.push(embedding.vector);
    }
    write_embeddings(output, &info.id, info.dims, &vectors, info.classes.clone())
}

/// Write `embeddings.npy` from the user's vectors; every image needs one. Returns the rows no
/// image (nor a duplicate of one) used.
fn user_embeddings(
    output: &Path,
    vectors: &UserVectors,
    images: &[ImageRecord],
    duplicates: &[Duplicate],
) -> Result<((EmbeddingInfo, Points), Vec<String>), BuildError> {
    let mut used = HashSet::new();
    let mut rows = Vec::with_capacity(images.len());
    let mut missing = Vec::new();
    for image in images {
        match vectors.lookup(&image.filename) {
            Some((key, vector)) => {
                used.insert(key);
                rows.push(embed::model::normalised(vector));
            }
            None => missing.push(image.filename.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(BuildError::Vectors(VectorsError(format!(
            "{} image(s) have no vector in --embeddings, e.g. {}; give every image a row, or leave those images out",
            missing.len(),
            missing.iter().take(5).copied().collect::<Vec<_>>().join(", ")
        ))));
    }
    for duplicate in duplicates {
        if let Some((key, _)) = vectors.lookup(&duplicate.filename) {
            used.insert(key);
        }
    }
    let embedding = write_embeddings(output, USER_MODEL, vectors.dims, &rows, Vec::new())?;
    Ok((embedding, vectors.unmatched(&used).into_iter().map(String::from).collect()))
}

/// Hotspots as the bundle stores them: named after their members' metadata category and
/// auto-tags (short class names, "tench" for "tench, Tinca tinca"), with a centroid per layout.
fn name_hotspots(
    groups: Vec<reduce::clusters::Group>,
    images: &[ImageRecord],
    embedding: Option<&EmbeddingInfo>,
    layouts: &[(&str, &str, u8, Vec<[f32; 3]>)],
) -> Vec<Cluster> {
    let classes = embedding.map(|e| e.classes.as_slice()).unwrap_or_default();
    let terms = |id: u32| {
        let image = &images[id as usize];
        let category = image.metadata.category.iter().map(|c| Term { tier: 0, text: c.clone(), weight: 1.0 });
        let tags = image.auto_tags.iter().filter_map(|&(class, p)| {
            let name = classes.get(class as usize)?.split(',').next()?.trim();
            Some(Term { tier: 1, text: name.to_string(), weight: p })
        });
        category.chain(tags).collect()
    };
    let names = reduce::clusters::names(&groups, &terms, images.len());
    let centroids: Vec<Vec<[f32; 3]>> =
        layouts.iter().map(|(_, _, _, positions)| reduce::clusters::centroids(&groups, positions)).collect();
    groups
        .into_iter()
        .zip(names)
        .enumerate()
        .map(|(g, (group, name))| Cluster {
            name,
            representative: group.representative,
            members: group.members,
            centroids: layouts
                .iter()
                .zip(&centroids)
                .map(|((layout, ..), c)| (layout.to_string(), c[g]))
                .collect(),
        })
        .collect()
}

/// Write one layout's positions, named by their hash.
fn write_layout(
    output: &Path,
    name: &str,
    title: &str,
    dims: u8,
    positions: &[[f32; 3]],
) -> Result<Layout, BuildError> {
    let bytes = bundle::encode_positions(positions);
    let path = format!("layouts/{name}-{}.f32", short_hash(&bytes));
    write(&output.join(&path), &bytes)?;
    Ok(Layout { name: name.into(), title: title.into(), dims, path })
}

fn short_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..16].to_string()
}

/// The model name recorded for vectors given with `--embeddings`.
pub const USER_MODEL: &str = "user";

fn write_embeddings(
    output: &Path,
    model: &str,
    dims: usize,
    vectors: &[Vec<f32>],
    classes: Vec<String>,
) -> Result<(EmbeddingInfo, Points), BuildError> {
    let rows: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
    let npy = embed::vectors::to_npy(&rows, dims);
    write(&output.join(EMBEDDINGS_FILE), &npy)?;
    let info = EmbeddingInfo {
        model: model.into(),
        dims: dims as u32,
        path: EMBEDDINGS_FILE.into(),
        hash: blake3::hash(&npy).to_hex().to_string(),
        classes,
    };
    Ok((info, Points::new(rows.concat(), vectors.len(), dims)))
}

/// Compose and write every atlas (in parallel), each named by a hash of its contents, but for
/// those the last build wrote with the same images in the same slots (`previous`), kept as
/// they are. `slots` are the images' slots.
#[allow(clippy::too_many_arguments)]
fn write_atlases(
    output: &Path,
    grid: &AtlasGrid,
    images: &[ImageRecord],
    slots: &[u32],
    previous: &[(Atlas, Vec<(u32, String)>)],
    cache: &ImageCache,
    cancel: &AtomicBool,
    progress: &dyn Progress,
) -> Result<Vec<Atlas>, BuildError> {
    let slot_count = slots.iter().max().map_or(0, |&s| s + 1);
    let count = grid.atlas_count(slot_count);
    let mut pages: Vec<Vec<(u32, &ImageRecord)>> = vec![Vec::new(); count as usize];
    for (record, &slot) in images.iter().zip(slots) {
        pages[record.atlas as usize].push((slot, record));
    }
    pages.iter_mut().for_each(|members| members.sort_unstable_by_key(|&(slot, _)| slot));
    progress.stage("Packing atlases", u64::from(count));
    (0..count)
        .into_par_iter()
        .map(|index| {
            if cancel.load(Ordering::Relaxed) {
                return Err(BuildError::Cancelled { finished: images.len() });
            }
            let (width, height) = grid.atlas_size(index, slot_count);
            let members = &pages[index as usize];
            if let Some((atlas, held)) = previous.get(index as usize)
                && (atlas.width, atlas.height) == (width, height)
                && held.len() == members.len()
                && held
                    .iter()
                    .zip(members)
                    .all(|((s, hash), (slot, record))| s == slot && *hash == record.hash)
                && output.join(&atlas.path).is_file()
            {
                progress.advance();
                return Ok(atlas.clone());
            }
            let mut canvas = RgbImage::new(width, height);
            let mut key = blake3::Hasher::new();
            key.update(&grid.cell.to_le_bytes());
            for (_, record) in members {
                let cell = cache
                    .cell(&record.hash)
                    .map_err(|reason| BuildError::Cache { filename: record.filename.clone(), reason })?;
                image::imageops::replace(
                    &mut canvas,
                    &cell,
                    i64::from(record.rect[0]),
                    i64::from(record.rect[1]),
                );
                key.update(cell.as_raw());
                key.update(&record.rect.map(u32::to_le_bytes).concat());
            }
            let jpeg = crate::encode::jpeg(&canvas, ATLAS_QUALITY);
            let path = format!("atlases/atlas-{index:03}-{}.jpg", &key.finalize().to_hex()[..16]);
            write(&output.join(&path), &jpeg)?;
            progress.advance();
            Ok(Atlas { path, width, height })
        })
        .collect()
}
