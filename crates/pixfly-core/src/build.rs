//! `pixfly build`: a folder of images in, a bundle out.
//!
//! Stages run in one direction: find files → read, hash and thumbnail each (parallel, cached by
//! content hash) → drop duplicates → join metadata → pack atlases → layouts → manifest (last,
//! atomic). Every bundle file but the cache is content-named, so a run that dies part-way leaves
//! the previous manifest pointing at files that are still there.

use crate::atlas::AtlasGrid;
use crate::bundle::write::write_atomic;
use crate::bundle::{self, Atlas, ImageRecord, Layout, MANIFEST_FILE, Manifest, SCHEMA_VERSION};
use crate::cache::{CachedImage, ImageCache};
use crate::ingest::{self, DecodeError, SourceFile, WalkProblem};
use crate::layout;
use crate::metadata::{MetadataErrors, read_metadata_csv};
use image::RgbImage;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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
        }
    }
}

/// How a long build tells the outside world how far it is (a progress bar, a Bevy resource).
pub trait Progress: Sync {
    /// A new stage begins with `total` units of work.
    fn stage(&self, name: &str, total: u64);
    /// One unit of the current stage is done.
    fn advance(&self);
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
    pub skipped: Vec<Skipped>,
    pub duplicates: Vec<Duplicate>,
    pub walk_problems: Vec<WalkProblem>,
    pub metadata_rows: usize,
    pub metadata_matched: usize,
    /// Metadata rows that no image used.
    pub metadata_unmatched: Vec<String>,
    pub atlases: usize,
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
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error(
        "the cached atlas cell of {filename} is unreadable ({reason}); delete the bundle's cache folder and build again"
    )]
    Cache { filename: String, reason: String },
    #[error("interrupted: {finished} images are cached; run the same command again to resume")]
    Cancelled { finished: usize },
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    write_atomic(path, bytes).map_err(|source| BuildError::Write { path: path.display().to_string(), source })
}

/// What happened to one input file.
enum Outcome {
    Ready { hash: String, image: CachedImage, cached: bool },
    Skipped(String),
    Cancelled,
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

    let mut found = ingest::discover(&options.inputs)?;
    for problem in &found.problems {
        tracing::warn!("skipping {}: {}", problem.path.display(), problem.reason);
    }
    if let Some(max) = options.max_images {
        found.files.truncate(max);
    }
    let cache = ImageCache::new(&options.output, options.cell_size, options.thumb_size);

    progress.stage("Reading images", found.files.len() as u64);
    let outcomes: Vec<Outcome> = found
        .files
        .par_iter()
        .map(|file| {
            let outcome = if cancel.load(Ordering::Relaxed) {
                Outcome::Cancelled
            } else {
                ingest_one(file, options, &cache)
            };
            progress.advance();
            outcome
        })
        .collect();

    tracing::debug!("read {} files in {:.2?}", found.files.len(), started.elapsed());
    let mut report = BuildReport { walk_problems: found.problems, ..Default::default() };
    let mut kept: Vec<(&SourceFile, String, CachedImage)> = Vec::new();
    let mut first_with_hash: HashMap<String, &str> = HashMap::new();
    let mut cancelled = false;
    for (file, outcome) in found.files.iter().zip(outcomes) {
        match outcome {
            Outcome::Ready { hash, image, cached } => {
                if let Some(&same_as) = first_with_hash.get(&hash) {
                    tracing::debug!("{} is a duplicate of {same_as}; keeping one", file.filename);
                    report
                        .duplicates
                        .push(Duplicate { filename: file.filename.clone(), same_as: same_as.into() });
                    continue;
                }
                // Counted for kept images only: a duplicate usually finds its twin's work cached.
                if cached {
                    report.from_cache += 1
                } else {
                    report.decoded += 1
                }
                first_with_hash.insert(hash.clone(), &file.filename);
                kept.push((file, hash, image));
            }
            Outcome::Skipped(reason) => {
                tracing::warn!("skipping {}: {reason}", file.path.display());
                report.skipped.push(Skipped { filename: file.filename.clone(), reason });
            }
            Outcome::Cancelled => cancelled = true,
        }
    }
    if cancelled {
        return Err(BuildError::Cancelled { finished: report.decoded + report.from_cache });
    }
    if kept.is_empty() {
        return Err(BuildError::NoImages { skipped: report.skipped.len() });
    }

    let grid = AtlasGrid::new(options.cell_size);
    let mut used_rows = HashSet::new();
    let images: Vec<ImageRecord> = kept
        .iter()
        .enumerate()
        .map(|(id, (file, hash, image))| {
            let (atlas, rect) = grid.place(id as u32, image.cell_width, image.cell_height);
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

    let atlases = write_atlases(&options.output, &grid, &images, &cache, cancel, progress)?;
    tracing::debug!("packed {} atlases by {:.2?}", atlases.len(), started.elapsed());
    let positions = layout::grid(images.len());
    let grid_bytes = bundle::encode_positions(&positions);
    let grid_layout = Layout {
        name: "grid".into(),
        title: "Grid (by filename)".into(),
        dims: 2,
        path: format!("layouts/grid-{}.f32", short_hash(&grid_bytes)),
    };
    write(&options.output.join(&grid_layout.path), &grid_bytes)?;

    let manifest = Manifest {
        format: bundle::FORMAT_NAME.into(),
        version: SCHEMA_VERSION,
        generator: format!("pixfly {}", env!("CARGO_PKG_VERSION")),
        image_count: images.len() as u32,
        cell_size: options.cell_size,
        thumb_size: options.thumb_size,
        atlases,
        layouts: vec![grid_layout],
        images,
        clusters: Vec::new(),
    };
    // What we write must pass the same checks every reader applies.
    bundle::validate_manifest(&manifest).map_err(|e| BuildError::Options(format!("internal error: {e}")))?;
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    write(&options.output.join(MANIFEST_FILE), &json)?;
    remove_unreferenced(&options.output, &manifest);

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
    Ok(())
}

/// Read, hash, and (unless cached) decode and thumbnail one file. Never panics: a decoder bug on
/// a hostile file becomes a skipped file.
fn ingest_one(file: &SourceFile, options: &BuildOptions, cache: &ImageCache) -> Outcome {
    let bytes = match std::fs::read(&file.path) {
        Ok(b) => b,
        Err(e) => return Outcome::Skipped(format!("cannot read: {e}")),
    };
    let hash = blake3::hash(&bytes).to_hex().to_string();
    if let Some(image) = cache.get(&hash) {
        return Outcome::Ready { hash, image, cached: true };
    }
    let work = || -> Result<(CachedImage, ingest::Thumbnails), DecodeError> {
        let min_side = options.thumb_size.max(options.cell_size);
        let decoded = ingest::decode(&bytes, min_side, options.max_pixels)?;
        let thumbs = ingest::make_thumbnails(decoded.image, options.thumb_size, options.cell_size);
        let record = CachedImage {
            width: decoded.width,
            height: decoded.height,
            cell_width: thumbs.cell.width(),
            cell_height: thumbs.cell.height(),
        };
        Ok((record, thumbs))
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(Ok((image, thumbs))) => match cache.put(&hash, image, &thumbs.thumb, &thumbs.cell) {
            Ok(()) => Outcome::Ready { hash, image, cached: false },
            Err(e) => Outcome::Skipped(format!("cannot write its thumbnail into the bundle: {e}")),
        },
        Ok(Err(e)) => Outcome::Skipped(e.to_string()),
        Err(_) => Outcome::Skipped("the decoder failed on this file (please report it)".into()),
    }
}

fn short_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..16].to_string()
}

/// Compose and write every atlas (in parallel); each is named by a hash of its contents.
fn write_atlases(
    output: &Path,
    grid: &AtlasGrid,
    images: &[ImageRecord],
    cache: &ImageCache,
    cancel: &AtomicBool,
    progress: &dyn Progress,
) -> Result<Vec<Atlas>, BuildError> {
    let count = grid.atlas_count(images.len() as u32);
    progress.stage("Packing atlases", u64::from(count));
    (0..count)
        .into_par_iter()
        .map(|index| {
            if cancel.load(Ordering::Relaxed) {
                return Err(BuildError::Cancelled { finished: images.len() });
            }
            let (width, height) = grid.atlas_size(index, images.len() as u32);
            let mut canvas = RgbImage::new(width, height);
            let per = grid.per_atlas() as usize;
            let members = &images[index as usize * per..images.len().min((index as usize + 1) * per)];
            let mut key = blake3::Hasher::new();
            key.update(&grid.cell.to_le_bytes());
            for record in members {
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

/// After the new manifest is in place, drop the atlases, layouts and thumbnails it no longer uses.
fn remove_unreferenced(output: &Path, manifest: &Manifest) {
    let referenced: HashSet<&str> = manifest
        .atlases
        .iter()
        .map(|a| a.path.as_str())
        .chain(manifest.layouts.iter().map(|l| l.path.as_str()))
        .chain(manifest.images.iter().map(|i| i.thumb.as_str()))
        .collect();
    for folder in ["atlases", "layouts", "thumbs"] {
        let Ok(entries) = std::fs::read_dir(output.join(folder)) else { continue };
        for entry in entries.flatten() {
            let name = format!("{folder}/{}", entry.file_name().to_string_lossy());
            if !referenced.contains(name.as_str()) && entry.path().is_file() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
