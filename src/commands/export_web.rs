//! `pixfly export-web BUNDLE -o SITE`: a static website (the wasm viewer, its page and the
//! bundle) that any static host can serve.

use anyhow::{Context, bail};
use indicatif::ProgressBar;
use pixfly_core::bundle::folder::BundleFolder;
use pixfly_core::bundle::ownership::{self, FolderKind, Protected};
use pixfly_core::bundle::write::write_atomic;
use pixfly_core::bundle::{Bundle, MANIFEST_FILE};
use pixfly_core::tour::{TOUR_FILE, Tour, TourFile};
use std::path::{Path, PathBuf};
use tracing::info;

#[derive(clap::Args)]
pub struct ExportWebArgs {
    /// The bundle folder (made by `pixfly build`).
    bundle: PathBuf,
    /// The site folder to write: new or empty, or one that export-web made (its `bundle/` is
    /// then brought up to date; other files are left alone).
    #[arg(short, long, value_name = "SITE")]
    output: PathBuf,
    /// The built web viewer (scripts/build-web.sh writes it to web/dist).
    #[arg(long, value_name = "DIR")]
    viewer: Option<PathBuf>,
}

/// What scripts/build-web.sh leaves in web/dist: the page, the wasm-bindgen glue and the wasm
/// (the WebGL2 build, which every browser can run).
const VIEWER_FILES: [&str; 3] = ["index.html", "pixfly.js", "pixfly_bg.wasm"];

/// Copied when the built viewer has them, else removed from the site (a host would send old
/// ones): the wasm compressed ahead of time, for hosts that serve such copies, and the WebGPU
/// build, which the page loads where the browser has WebGPU.
const OPTIONAL_FILES: [&str; 6] = [
    "pixfly_bg.wasm.br",
    "pixfly_bg.wasm.gz",
    "pixfly-webgpu.js",
    "pixfly-webgpu_bg.wasm",
    "pixfly-webgpu_bg.wasm.br",
    "pixfly-webgpu_bg.wasm.gz",
];

/// The manifest as the site serves it (hotspots renamed by the bundle's `names.json`) and the
/// tour for its kiosk (the bundle's `tour.json`, checked, or one of its largest hotspots).
fn curated(bundle: &Bundle, folder: &Path) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let mut manifest = bundle.manifest.clone();
    if let Ok(names) = std::fs::read(folder.join(pixfly_core::names::NAMES_FILE)) {
        pixfly_core::names::apply(&mut manifest, &names).map_err(anyhow::Error::msg)?;
    }
    let tour = match std::fs::read(folder.join(TOUR_FILE)) {
        Ok(bytes) => {
            Tour::parse(&bytes, &manifest)
                .with_context(|| format!("{}", folder.join(TOUR_FILE).display()))?;
            bytes
        }
        Err(_) => serde_json::to_vec_pretty(&TourFile::of_hotspots(&manifest))?,
    };
    Ok((serde_json::to_vec_pretty(&manifest)?, tour))
}

/// The page loads `bundle/` next to it unless its URL says `?bundle=...`.
const BUNDLE_DIR: &str = "bundle";

pub fn run(args: ExportWebArgs) -> anyhow::Result<()> {
    let bundle =
        Bundle::open(&args.bundle).with_context(|| format!("cannot export {}", args.bundle.display()))?;
    let viewer = viewer_dir(args.viewer)?;
    // The site must be pixfly's own, and apart from the bundle: writing into or over the source
    // would replace the very files being copied.
    let source =
        Protected { path: args.bundle.clone(), what: "the bundle being exported", inside_allowed: false };
    ownership::claim(&args.output, FolderKind::Site, &[source])
        .map_err(|reason| anyhow::anyhow!("will not write the site there: {reason}"))?;
    for name in VIEWER_FILES {
        copy_atomic(&viewer.join(name), &args.output.join(name))?;
    }
    for name in OPTIONAL_FILES {
        let (copy, site_copy) = (viewer.join(name), args.output.join(name));
        if copy.exists() {
            copy_atomic(&copy, &site_copy)?;
        } else if site_copy.is_file() {
            // A file of ours (the site is pixfly's): an old viewer's, which a host would still send.
            std::fs::remove_file(&site_copy)
                .with_context(|| format!("cannot remove {}", site_copy.display()))?;
        }
    }

    // As `pixfly build` does: the bundle's files are content-named, so the new ones go in beside
    // the old, the manifest last; then the files only the old manifest used are removed. A
    // stopped export leaves the old bundle whole.
    let target = args.output.join(BUNDLE_DIR);
    let previous = ownership::listed_files(&target);
    let mut from = BundleFolder::new(&args.bundle)?;
    let files: Vec<&str> = bundle.manifest.files().collect();
    let bar = ProgressBar::new(files.len() as u64 + 1).with_message("copying the bundle");
    for rel in files.iter().copied() {
        // Only the bundle's own regular files: a link in it to /etc/passwd is not published.
        let real = from.resolve(rel).with_context(|| format!("cannot export {}", args.bundle.display()))?;
        copy_atomic(&real, &target.join(rel))?;
        bar.inc(1);
    }
    // The tour first (the web kiosk reads it), the manifest last: with the hotspot names a
    // curator gave, so the page needs no file of names.
    let (manifest, tour) = curated(&bundle, &args.bundle)?;
    write_atomic(&target.join(TOUR_FILE), &tour)?;
    write_atomic(&target.join(MANIFEST_FILE), &manifest)?;
    bar.finish_and_clear();
    ownership::remove_superseded(&target, &previous, files);
    info!(
        "wrote {} with {} images; preview it with `pixfly serve {}`",
        args.output.display(),
        bundle.manifest.image_count,
        args.output.display()
    );
    Ok(())
}

/// The built viewer: as given, else web/dist here or in the source tree this binary came from.
fn viewer_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let candidates = match given {
        Some(dir) => vec![dir],
        None => vec![PathBuf::from("web/dist"), Path::new(env!("CARGO_MANIFEST_DIR")).join("web/dist")],
    };
    for dir in &candidates {
        if VIEWER_FILES.iter().all(|name| dir.join(name).is_file()) {
            return Ok(dir.clone());
        }
    }
    bail!(
        "no built web viewer in {} (it needs {}): run scripts/build-web.sh first, or pass --viewer DIR",
        candidates[0].display(),
        VIEWER_FILES.join(", ")
    )
}

/// Copy through a temporary file beside the target, then rename: a stopped export never leaves
/// a half-written file. Streams, so large files (embeddings) are not held in memory.
fn copy_atomic(from: &Path, to: &Path) -> anyhow::Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    // Named after the target, as the bundle's own files are: a stopped export's leftover is
    // replaced by the next one.
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::copy(from, &tmp)
        .with_context(|| format!("cannot copy {} to {}", from.display(), tmp.display()))?;
    std::fs::rename(&tmp, to).with_context(|| format!("cannot write {}", to.display()))
}
