//! Adding images to a built bundle (new images placed among the old ones, `reduce::update`)
//! against laying the whole collection out afresh with warm caches, and how well the new images
//! land: the Rust half of `bench/update.sh`.
//!
//! `PIXFLY_BENCH_FROM`: a bundle of the collection already built (its cache makes decoding and
//! the network free, so the builds here time the layouts); `PIXFLY_BENCH_IMAGES` its images
//! folder, `PIXFLY_BENCH_METADATA` the CSV with their categories; `PIXFLY_BENCH_HOLD`: which
//! images come later, `every:N` (each N-th file) or `category:NAME`. Builds the rest, adds the
//! held images (timed), then lays everything out afresh (timed), and prints one JSON line: both
//! times, their ratio, and the new images' 15-NN category accuracy in UMAP 2D each way.

use pixfly_core::build::{BuildOptions, build};
use pixfly_core::bundle::Bundle;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn main() {
    let var = |name: &str| std::env::var(name).ok();
    let (Some(from), Some(images), Some(metadata), Some(hold)) = (
        var("PIXFLY_BENCH_FROM"),
        var("PIXFLY_BENCH_IMAGES"),
        var("PIXFLY_BENCH_METADATA"),
        var("PIXFLY_BENCH_HOLD"),
    ) else {
        eprintln!("set PIXFLY_BENCH_FROM, _IMAGES, _METADATA and _HOLD (bench/update.sh does)");
        return;
    };
    let work = tempfile::tempdir().expect("a temporary folder");
    let bundle = work.path().join("bundle");
    copy_folder(Path::new(&from), &bundle);
    let folder = work.path().join("images");
    std::fs::create_dir_all(&folder).unwrap();
    let table = std::fs::read_to_string(&metadata).expect("the metadata CSV");
    let category_of: std::collections::HashMap<&str, &str> =
        table.lines().skip(1).filter_map(|l| l.split_once(',')).collect();
    let mut files: Vec<String> = std::fs::read_dir(&images)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| category_of.contains_key(name.as_str()))
        .collect();
    files.sort();
    let later: HashSet<&str> = files
        .iter()
        .enumerate()
        .filter(|(i, name)| match hold.split_once(':') {
            Some(("every", n)) => i % n.parse::<usize>().unwrap() == 0,
            Some(("category", c)) => category_of[name.as_str()] == c,
            _ => panic!("PIXFLY_BENCH_HOLD is every:N or category:NAME"),
        })
        .map(|(_, name)| name.as_str())
        .collect();
    let link =
        |name: &str| std::os::unix::fs::symlink(Path::new(&images).join(name), folder.join(name)).unwrap();
    files.iter().filter(|f| !later.contains(f.as_str())).for_each(|f| link(f));
    let mut options = BuildOptions::new(vec![folder.clone()], bundle.clone());
    options.metadata = Some(PathBuf::from(&metadata));
    if let Some(seed) = var("PIXFLY_BENCH_SEED") {
        options.layout.umap.seed = seed.parse().expect("PIXFLY_BENCH_SEED is a number");
    }
    let cancel = AtomicBool::new(false);
    let timed_build = |options: &BuildOptions| {
        let stages = Stages::default();
        let t = Instant::now();
        let report = build(options, &cancel, &stages).expect("the build");
        eprintln!("{}", stages.report(t));
        (t.elapsed().as_secs_f64(), report)
    };
    let (base_seconds, _) = timed_build(&options);
    later.iter().for_each(|f| link(f));
    let (add_seconds, added) = timed_build(&options);
    assert_eq!(added.placement.placed, later.len(), "the new images were not placed by transform");
    let placed = accuracy(&bundle, &later);
    options.relayout = true;
    let (full_seconds, _) = timed_build(&options);
    let relaid = accuracy(&bundle, &later);
    println!(
        "{}",
        serde_json::json!({
            "images": files.len(), "new": later.len(), "base_seconds": base_seconds,
            "add_seconds": add_seconds, "relayout_seconds": full_seconds,
            "ratio": add_seconds / full_seconds,
            "new_accuracy_placed": placed, "new_accuracy_relayout": relaid,
        })
    );
}

/// When each stage of a build began, to see where an addition's time goes (on stderr).
#[derive(Default)]
struct Stages(std::sync::Mutex<Vec<(String, Instant)>>);

impl pixfly_core::build::Progress for Stages {
    fn stage(&self, name: &str, _: u64) {
        self.0.lock().unwrap().push((name.to_string(), Instant::now()));
    }
    fn advance(&self) {}
}

impl Stages {
    fn report(&self, started: Instant) -> String {
        let stages = self.0.lock().unwrap();
        let mut from = ("start".to_string(), started);
        let mut parts = Vec::new();
        for (name, at) in stages.iter().chain([&("end".to_string(), Instant::now())]) {
            parts.push(format!("{} {:.2}s", from.0, (*at - from.1).as_secs_f64()));
            from = (name.clone(), *at);
        }
        parts.join(", ")
    }
}

/// The mean share of each named image's 15 nearest images in the bundle's UMAP 2D layout that
/// have its category.
fn accuracy(dir: &Path, names: &HashSet<&str>) -> f64 {
    let bundle = Bundle::open(dir).expect("a valid bundle");
    let places = &bundle.positions[bundle.layout_index("umap2d").unwrap()];
    let images = &bundle.manifest.images;
    let category = |i: usize| images[i].metadata.category.as_deref();
    let mut sum = 0.0;
    let mut count = 0;
    for image in images.iter().filter(|i| names.contains(i.filename.as_str())) {
        let me = image.id as usize;
        let mut others: Vec<(f32, usize)> = (0..images.len())
            .filter(|&j| j != me)
            .map(|j| ((places[j][0] - places[me][0]).powi(2) + (places[j][1] - places[me][1]).powi(2), j))
            .collect();
        others.select_nth_unstable_by(14, |a, b| a.0.total_cmp(&b.0));
        sum += others[..15].iter().filter(|&&(_, j)| category(j) == category(me)).count() as f64 / 15.0;
        count += 1;
    }
    sum / count.max(1) as f64
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
