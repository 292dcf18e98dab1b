//! Shared by the end-to-end tests: running the real `pixfly` binary, making test images, and
//! finding the real photos fetched from PyPI's scikit-image.
#![allow(dead_code)] // each test file uses a different part of this module

use image::{ImageEncoder, Rgb, RgbImage};
use pixfly_core::bundle::{Bundle, ImageRecord};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn pixfly(args: &[&std::ffi::OsStr]) -> Output {
    pixfly_with_env(args, &[])
}

pub fn pixfly_with_env(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pixfly"));
    command.args(args).env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("pixfly runs")
}

/// Run `pixfly build` and return (success, stdout, stderr).
pub fn build(inputs: &[&Path], out: &Path, extra: &[&str]) -> (bool, String, String) {
    build_with_env(inputs, out, extra, &[])
}

pub fn build_with_env(
    inputs: &[&Path],
    out: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (bool, String, String) {
    let mut args: Vec<&std::ffi::OsStr> = vec!["build".as_ref()];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend(["-o".as_ref(), out.as_os_str()]);
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let output = pixfly_with_env(&args, env);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

/// scikit-image's sample photos, fetched (pinned, checksummed) on first use.
pub fn skimage_data() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fetch-test-data.sh");
        let out = Command::new("bash").arg(script).output().expect("bash runs");
        assert!(out.status.success(), "fetch-test-data.sh failed: {}", String::from_utf8_lossy(&out.stderr));
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

pub fn record<'a>(bundle: &'a Bundle, filename: &str) -> &'a ImageRecord {
    bundle.manifest.images.iter().find(|i| i.filename == filename).unwrap_or_else(|| {
        let names: Vec<_> = bundle.manifest.images.iter().map(|i| &i.filename).collect();
        panic!("{filename} not in bundle: {names:?}")
    })
}

/// The pixel at fraction (fx, fy) of an image's rectangle in its atlas.
pub fn atlas_pixel(dir: &Path, bundle: &Bundle, filename: &str, fx: f32, fy: f32) -> [u8; 3] {
    let r = record(bundle, filename);
    let atlas = image::open(dir.join(&bundle.manifest.atlases[r.atlas as usize].path)).unwrap().into_rgb8();
    let [x, y, w, h] = r.rect;
    let px = x + ((w as f32 * fx) as u32).min(w - 1);
    let py = y + ((h as f32 * fy) as u32).min(h - 1);
    atlas.get_pixel(px, py).0
}

/// Whether every channel of `got` is within `tolerance` of `want`.
pub fn near(got: [u8; 3], want: [u8; 3], tolerance: i32) -> bool {
    got.iter().zip(want).all(|(&g, w)| (i32::from(g) - i32::from(w)).abs() <= tolerance)
}

pub fn assert_close(got: [u8; 3], want: [u8; 3], tolerance: i32, what: &str) {
    assert!(near(got, want, tolerance), "{what}: got {got:?}, want {want:?} ± {tolerance}");
}

pub fn save_png(path: &Path, image: &RgbImage) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image.save(path).unwrap();
}

pub fn jpeg_bytes(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(image).unwrap();
    out
}

/// A picture with two coloured halves, top and bottom.
pub fn halves(w: u32, h: u32, top: [u8; 3], bottom: [u8; 3]) -> RgbImage {
    RgbImage::from_fn(w, h, |_, y| Rgb(if y < h / 2 { top } else { bottom }))
}

/// A minimal big-endian EXIF block with one Orientation tag.
pub fn exif_orientation(value: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&value.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff
}

/// A JPEG with an APP1 Exif segment carrying `orientation`, as a camera writes it.
pub fn jpeg_with_orientation(image: &RgbImage, orientation: u16) -> Vec<u8> {
    let jpeg = jpeg_bytes(image, 95);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(exif_orientation(orientation));
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A PNG whose header claims `width × height` but holds one pixel: a decompression bomb's header.
pub fn png_bomb_header(width: u32, height: u32) -> Vec<u8> {
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&[0, 0, 0], 1, 1, image::ExtendedColorType::Rgb8)
        .unwrap();
    // IHDR data starts at byte 16 (8 signature + 4 length + 4 type); its CRC follows 13 bytes on.
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// `count` distinct photo-like images (smooth gradients plus texture), `w × h`, as JPEGs.
pub fn write_photo_set(dir: &Path, count: u32, w: u32, h: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..count {
        let img = RgbImage::from_fn(w, h, |x, y| {
            let t = (x * 7 + y * 13 + i * 31) % 256;
            Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, (t as u8) ^ (i as u8).wrapping_mul(37)])
        });
        std::fs::write(dir.join(format!("photo_{i:03}.jpg")), jpeg_bytes(&img, 90)).unwrap();
    }
}

/// A small bundle for the viewer's tests: 24 two-tone images (a colour on top, a darker one below, so orientation shows) and a
/// striped one, in three groups of vectors far apart, so both layouts are known: grid by
/// filename, UMAP by group.
pub fn two_tone_bundle(root: &Path) -> PathBuf {
    let images = root.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let mut csv = String::from("filename,a,b,c\n");
    for i in 0..24u32 {
        let colour = [(i * 97 % 200 + 40) as u8, (i * 53 % 200 + 40) as u8, (i * 151 % 200 + 40) as u8];
        let below = colour.map(|c| c / 3);
        let image = RgbImage::from_fn(80, 80, |_, y| Rgb(if y < 40 { colour } else { below }));
        let name = format!("img{i:02}.png");
        image.save(images.join(&name)).unwrap();
        let group = i % 3;
        let wobble = (i as f32 * 0.37).sin() * 0.05;
        let v = [
            (group == 0) as u8 as f32 + wobble,
            (group == 1) as u8 as f32 - wobble,
            (group == 2) as u8 as f32,
        ];
        csv.push_str(&format!("{name},{},{},{}\n", v[0], v[1], v[2]));
    }
    // One image with detail that only its close-up thumbnail keeps: stripes 2 px wide, which
    // its 64 px atlas cell averages away.
    let stripes =
        RgbImage::from_fn(256, 256, |x, _| Rgb(if x / 2 % 2 == 0 { [220, 40, 40] } else { [40, 40, 220] }));
    stripes.save(images.join("zz_detail.png")).unwrap();
    csv.push_str("zz_detail.png,1,0,0\n");
    std::fs::write(root.join("vectors.csv"), csv).unwrap();
    let out = root.join("bundle");
    let vectors = root.join("vectors.csv");
    let (ok, _, stderr) =
        build(&[&images], &out, &["--embeddings", vectors.to_str().unwrap(), "--n-neighbors", "5"]);
    assert!(ok, "build failed: {stderr}");
    out
}
