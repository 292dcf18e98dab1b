//! `pixfly open` end to end: the real app assembles a folder in a window (lavapipe under Xvfb),
//! shows images before the network is done with them, and writes the bundle `pixfly build`
//! writes.

mod common;

use common::*;
use image::RgbImage;
use pixfly_core::bundle::Bundle;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// `pixfly open INPUT -o OUT --screenshot …` headless on the CPU: (success, stderr, picture, report).
fn open(
    input: &Path,
    out: &Path,
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (bool, String, Option<(RgbImage, Value)>) {
    let lavapipe = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";
    assert!(Path::new(lavapipe).exists(), "Mesa's lavapipe is missing: run scripts/install-viewer-deps.sh");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("open");
    std::fs::create_dir_all(&dir).unwrap();
    let (png, json) = (dir.join(format!("{name}.png")), dir.join(format!("{name}.json")));
    let _ = std::fs::remove_file(&png);
    let output = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x1024x24"])
        .arg(env!("CARGO_BIN_EXE_pixfly"))
        .arg("open")
        .arg(input)
        .arg("-o")
        .arg(out)
        .args([
            "--size",
            "640x480",
            "--screenshot",
            png.to_str().unwrap(),
            "--report",
            json.to_str().unwrap(),
        ])
        .args(args)
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", lavapipe)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("xvfb-run runs (scripts/install-viewer-deps.sh installs it)");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let shot = png.exists().then(|| {
        let picture = image::open(&png).unwrap().into_rgb8();
        (picture, serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap())
    });
    (output.status.success(), stderr, shot)
}

/// The mean colour of the middle of a box (centre, half size) of `picture`.
fn mean(picture: &RgbImage, [x, y, hw, hh]: [f32; 4]) -> [f32; 3] {
    let mut sum = [0.0f32; 3];
    let mut n = 0.0f32;
    for py in (y - 0.6 * hh) as u32..(y + 0.6 * hh) as u32 {
        for px in (x - 0.6 * hw) as u32..(x + 0.6 * hw) as u32 {
            let p = picture.get_pixel(px.min(picture.width() - 1), py.min(picture.height() - 1)).0;
            for c in 0..3 {
                sum[c] += f32::from(p[c]);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n.max(1.0))
}

/// Every image the report draws (ids in arrival order, named by the report) shows, on average,
/// the colours of its own atlas cell in `bundle`. Returns how many images were checked.
fn check_images_shown(picture: &RgbImage, report: &Value, dir: &Path, bundle: &Bundle) -> usize {
    let names: Vec<&str> =
        report["assembly"]["filenames"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    let atlases: Vec<RgbImage> =
        bundle.manifest.atlases.iter().map(|a| image::open(dir.join(&a.path)).unwrap().into_rgb8()).collect();
    let mut checked = 0;
    for drawn in report["images"].as_array().unwrap() {
        let f = |k: &str| drawn[k].as_f64().unwrap() as f32;
        let (x, y, hw, hh) = (f("x"), f("y"), f("half_width"), f("half_height"));
        assert!(hw >= 8.0, "images are drawn large enough to be seen: {drawn}");
        let name = names[drawn["id"].as_u64().unwrap() as usize];
        let record = record(bundle, name);
        let [rx, ry, rw, rh] = record.rect.map(|v| v as f32);
        let cell = mean(&atlases[record.atlas as usize], [rx + rw / 2.0, ry + rh / 2.0, rw / 2.0, rh / 2.0]);
        let shown = mean(picture, [x, y, hw, hh]);
        let off = (0..3).map(|c| (cell[c] - shown[c]).abs()).fold(0.0, f32::max);
        assert!(off < 24.0, "{name} is drawn with mean colour {shown:?}, its cell's is {cell:?}");
        checked += 1;
    }
    checked
}

#[test]
fn a_folder_assembles_in_the_window_and_becomes_the_bundle_build_makes() {
    let root = tempfile::tempdir().unwrap();
    let photos = skimage_data();
    let out = root.path().join("opened");

    // A picture the moment 8 images have arrived: they are on screen, the network is not done.
    let (ok, stderr, shot) = open(photos, &out, "at-8", &["--at", "images=8"], &[]);
    assert!(ok, "pixfly open failed: {stderr}");
    let (picture, report) = shot.expect("a picture");
    let assembly = &report["assembly"];
    assert_eq!(assembly["shown"], 8, "{assembly}");
    assert_eq!(report["layout"], "arrival");
    assert_eq!(report["images"].as_array().unwrap().len(), 8, "every image shown is in the frame");
    let found = assembly["found"].as_u64().unwrap();
    assert_eq!(found, 29);
    assert!(assembly["embedded"].as_u64().unwrap() < found, "the vectors were all done first: {assembly}");
    assert_eq!(assembly["complete"], false);

    // It went on to the end: the bundle is the one `pixfly build` writes, file for file.
    let opened = Bundle::open(&out).expect("a valid bundle");
    assert_eq!(check_images_shown(&picture, &report, &out, &opened), 8);
    let built = root.path().join("built");
    let (ok, _, stderr) = build(&[photos], &built, &[]);
    assert!(ok, "build failed: {stderr}");
    let manifest = |dir: &Path| std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert_eq!(manifest(&out), manifest(&built), "open and build wrote different manifests");
    for file in opened.manifest.files() {
        let same = std::fs::read(out.join(file)).unwrap() == std::fs::read(built.join(file)).unwrap();
        assert!(same, "{file} differs between open and build");
    }

    // Opened again, everything comes from the cache and the picture is the finished collection,
    // by similarity.
    let (ok, stderr, shot) = open(photos, &out, "again", &[], &[]);
    assert!(ok, "pixfly open failed: {stderr}");
    let (picture, report) = shot.expect("a picture");
    let assembly = &report["assembly"];
    assert_eq!(assembly["complete"], true, "{assembly}");
    assert_eq!((assembly["decoded"].as_u64(), assembly["from_cache"].as_u64()), (Some(0), Some(28)));
    assert_eq!(report["layout"], opened.manifest.layouts[0].name.as_str());
    assert_eq!(check_images_shown(&picture, &report, &out, &opened), 28);
}

#[test]
fn without_a_network_the_images_still_assemble_and_an_empty_folder_is_explained() {
    let root = tempfile::tempdir().unwrap();
    let photos = root.path().join("photos");
    write_photo_set(&photos, 12, 96, 64);
    let out = root.path().join("bundle");
    let no_runtime = [("ORT_DYLIB_PATH", "/nowhere/libonnxruntime.so")];
    let (ok, stderr, shot) = open(&photos, &out, "no-network", &[], &no_runtime);
    assert!(ok, "pixfly open failed: {stderr}");
    assert!(stderr.contains("ONNX Runtime"), "the missing network is not explained: {stderr}");
    let (picture, report) = shot.expect("a picture");
    assert_eq!(report["layout"], "grid", "without vectors the bundle has the filename grid");
    let bundle = Bundle::open(&out).unwrap();
    assert_eq!(bundle.manifest.image_count, 12);
    assert_eq!(check_images_shown(&picture, &report, &out, &bundle), 12);

    let empty = root.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (ok, stderr, shot) = open(&empty, &root.path().join("nothing"), "empty", &[], &[]);
    assert!(!ok && shot.is_none(), "an empty folder gave a picture");
    assert!(stderr.contains("no usable images"), "{stderr}");
}
