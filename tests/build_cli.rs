//! `pixfly build` and `pixfly info` end to end, through the real binary, on real and made files.

mod common;

use common::*;
use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use pixfly_core::bundle::{Bundle, SCHEMA_VERSION};
use std::path::Path;

/// Every kind of awkward file we promise to handle, each with its exact expected outcome.
fn write_corpus(root: &Path) {
    let good = root.join("good");
    std::fs::create_dir_all(&good).unwrap();

    // Stored landscape, red on top; EXIF 6 says "rotate 90° clockwise to view": upright it is a
    // portrait with red on the right.
    let stored = halves(120, 60, [220, 30, 30], [30, 30, 220]);
    std::fs::write(good.join("camera_exif6.jpg"), jpeg_with_orientation(&stored, 6)).unwrap();

    // A PNG with an eXIf chunk saying "rotate 180°": green ends up on top.
    let mut png = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut png);
    encoder.set_exif_metadata(exif_orientation(3)).unwrap();
    let stored = halves(40, 40, [200, 200, 200], [20, 160, 20]);
    encoder.write_image(stored.as_raw(), 40, 40, image::ExtendedColorType::Rgb8).unwrap();
    std::fs::write(good.join("exif_rotated.png"), png).unwrap();

    // CMYK (Adobe, inverted) and YCCK JPEGs as print workflows write them.
    let cmyk = |c: u8, m: u8, y: u8, k: u8| [c, m, y, k].repeat(32 * 32);
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(&cmyk(0, 255, 255, 0), 32, 32, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    std::fs::write(good.join("print_cmyk.jpg"), out).unwrap();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(&cmyk(255, 0, 255, 0), 32, 32, jpeg_encoder::ColorType::CmykAsYcck)
        .unwrap();
    std::fs::write(good.join("print_ycck.jpg"), out).unwrap();

    // 16-bit RGB, grayscale, alpha.
    let deep = image::ImageBuffer::<Rgb<u16>, _>::from_pixel(30, 20, Rgb([65535, 32768, 0]));
    image::DynamicImage::ImageRgb16(deep).save(good.join("deep_16bit.png")).unwrap();
    image::GrayImage::from_pixel(20, 30, image::Luma([50])).save(good.join("gray.png")).unwrap();
    let see_through =
        RgbaImage::from_fn(
            32,
            32,
            |x, _| {
                if x < 16 { Rgba([255, 0, 0, 0]) } else { Rgba([255, 255, 255, 128]) }
            },
        );
    see_through.save(good.join("transparent.png")).unwrap();

    // An animated GIF: the first frame (red) stands for it.
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        for colour in [[255, 0, 0, 255], [0, 0, 255, 255]] {
            let frame = image::Frame::new(RgbaImage::from_pixel(24, 24, Rgba(colour)));
            encoder.encode_frame(frame).unwrap();
        }
    }
    std::fs::write(good.join("animated.gif"), gif).unwrap();

    // One pixel; WebP, TIFF, BMP; a unicode name with spaces.
    save_png(&good.join("one_pixel.png"), &RgbImage::from_pixel(1, 1, Rgb([0, 200, 0])));
    RgbImage::from_pixel(50, 40, Rgb([250, 200, 0])).save(good.join("photo.webp")).unwrap();
    RgbImage::from_pixel(40, 50, Rgb([0, 200, 250])).save(good.join("photo.tiff")).unwrap();
    RgbImage::from_pixel(40, 40, Rgb([120, 0, 120])).save(good.join("photo.bmp")).unwrap();
    save_png(&good.join("Ünïcødé café 星.png"), &RgbImage::from_pixel(30, 30, Rgb([255, 255, 0])));

    // The same bytes twice: "a_copy.bmp" sorts first, so it is kept.
    std::fs::copy(good.join("photo.bmp"), root.join("a_copy.bmp")).unwrap();

    // Broken files: each skipped with one clear reason.
    let bad = root.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let jpeg = jpeg_bytes(&halves(64, 64, [1, 2, 3], [4, 5, 6]), 90);
    std::fs::write(bad.join("truncated.jpg"), &jpeg[..jpeg.len() / 2]).unwrap();
    std::fs::write(bad.join("empty.png"), b"").unwrap();
    std::fs::write(bad.join("notes.jpg"), b"Shopping list: milk, eggs, film").unwrap();
    std::fs::write(bad.join("bomb.png"), png_bomb_header(80_000, 80_000)).unwrap();

    // Not images at all, and a symlink loop: passed over / reported, never followed forever.
    std::fs::write(root.join("README.txt"), b"not an image").unwrap();
    std::os::unix::fs::symlink("..", good.join("loop")).unwrap();
}

#[test]
fn awkward_and_broken_files_each_get_their_exact_outcome() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_corpus(&photos);
    let out = tmp.path().join("bundle");
    let (ok, stdout, stderr) = build(&[&photos], &out, &[]);
    assert!(ok, "build failed:\n{stdout}\n{stderr}");

    let bundle = Bundle::open(&out).unwrap();
    let names: Vec<&str> = bundle.manifest.images.iter().map(|i| i.filename.as_str()).collect();
    assert_eq!(
        names,
        [
            "a_copy.bmp",
            "good/animated.gif",
            "good/camera_exif6.jpg",
            "good/deep_16bit.png",
            "good/exif_rotated.png",
            "good/gray.png",
            "good/one_pixel.png",
            "good/photo.tiff",
            "good/photo.webp",
            "good/print_cmyk.jpg",
            "good/print_ycck.jpg",
            "good/transparent.png",
            "good/Ünïcødé café 星.png",
        ]
    );

    // Skipped files: one warning each, naming the file, and the summary lists the reasons.
    for (file, reason) in [
        ("bad/bomb.png", "80000×80000 is 6400 megapixels, over the limit of 4000"),
        ("bad/empty.png", "the file is empty"),
        ("bad/notes.jpg", "not a supported image (JPEG, PNG, WebP, TIFF, GIF, BMP)"),
        ("bad/truncated.jpg", "corrupt or truncated jpeg"),
    ] {
        let warnings = stderr.lines().filter(|l| l.contains("skipping") && l.contains(file)).count();
        assert_eq!(warnings, 1, "one warning for {file}:\n{stderr}");
        assert!(stdout.contains(&format!("{file}: {reason}")), "summary gives {file}: {reason}\n{stdout}");
    }
    assert!(stdout.contains("skipped    4:"), "{stdout}");
    assert!(stdout.contains("duplicates 1 (same content, one kept):"), "{stdout}");
    assert!(stdout.contains("good/photo.bmp = a_copy.bmp"), "{stdout}");
    assert!(stdout.contains("files      13 decoded, 0 reused from the cache"), "{stdout}");
    assert!(stderr.contains("symbolic link loop"), "{stderr}");
    assert!(!stderr.contains("README.txt"), "non-image files are passed over silently: {stderr}");

    // Upright after EXIF orientation: the landscape JPEG became a portrait, red on the right.
    let camera = record(&bundle, "good/camera_exif6.jpg");
    assert_eq!((camera.width, camera.height), (60, 120));
    assert_eq!((camera.rect[2], camera.rect[3]), (32, 64));
    assert_close(atlas_pixel(&out, &bundle, "good/camera_exif6.jpg", 0.85, 0.5), [220, 30, 30], 40, "right");
    assert_close(atlas_pixel(&out, &bundle, "good/camera_exif6.jpg", 0.15, 0.5), [30, 30, 220], 40, "left");
    let thumb = image::open(out.join(&camera.thumb)).unwrap().into_rgb8();
    assert_eq!(thumb.dimensions(), (60, 120), "thumbs are upright and never enlarged");
    assert_close(atlas_pixel(&out, &bundle, "good/exif_rotated.png", 0.5, 0.2), [20, 160, 20], 12, "top");

    // Colour models end up as the colours a person would see.
    for (file, want, tolerance) in [
        ("good/print_cmyk.jpg", [255, 0, 0], 24),
        ("good/print_ycck.jpg", [0, 255, 0], 24),
        ("good/deep_16bit.png", [255, 128, 0], 2),
        ("good/gray.png", [50, 50, 50], 2),
        ("good/animated.gif", [255, 0, 0], 8),
        ("good/one_pixel.png", [0, 200, 0], 8),
        ("good/photo.webp", [250, 200, 0], 8),
        ("good/photo.tiff", [0, 200, 250], 8),
        ("a_copy.bmp", [120, 0, 120], 8),
        ("good/Ünïcødé café 星.png", [255, 255, 0], 8),
    ] {
        assert_close(atlas_pixel(&out, &bundle, file, 0.5, 0.5), want, tolerance, file);
    }
    // Alpha: transparent → the neutral matte; half-transparent white → halfway to white.
    assert_close(atlas_pixel(&out, &bundle, "good/transparent.png", 0.2, 0.5), [128, 128, 128], 6, "clear");
    assert_close(atlas_pixel(&out, &bundle, "good/transparent.png", 0.8, 0.5), [192, 192, 192], 6, "half");

    let one = record(&bundle, "good/one_pixel.png");
    assert_eq!((one.width, one.height, one.rect[2], one.rect[3]), (1, 1, 64, 64));
}

/// The number on a summary line such as "skipped    4:".
fn summary_count(stdout: &str, label: &str) -> usize {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .and_then(|rest| rest.trim().split([' ', ':']).next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn real_photos_from_scikit_image() {
    let data = skimage_data();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    let (ok, stdout, stderr) = build(&[data], &out, &["--thumb", "128", "--cell", "32"]);
    assert!(ok, "{stdout}\n{stderr}");
    let bundle = Bundle::open(&out).unwrap();
    let files = std::fs::read_dir(data)
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'));
    let file_count = files.count();
    assert!(file_count >= 25, "scikit-image ships 25+ sample images, found {file_count}");

    let m = &bundle.manifest;
    // Its one multi-sample planar TIFF is beyond the TIFF decoder: reported, not fatal.
    assert!(stdout.contains("multipage_rgb.tif: unsupported kind of tif"), "{stdout}");
    assert_eq!(
        m.images.len() + summary_count(&stdout, "skipped"),
        file_count,
        "all in or reported\n{stdout}"
    );
    let chelsea = record(&bundle, "chelsea.png");
    assert_eq!((chelsea.width, chelsea.height), (451, 300));
    let thumb = image::open(out.join(&chelsea.thumb)).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (128, 85));
    assert_eq!((chelsea.rect[2], chelsea.rect[3]), (32, 21));
    // The cat is orange-brown, not a grey blur: the cell keeps its colour.
    let [r, _, b] = atlas_pixel(&out, &bundle, "chelsea.png", 0.5, 0.5);
    assert!(r > b + 20, "chelsea's centre is warm: r={r} b={b}");

    let info = pixfly(&["info".as_ref(), out.as_os_str()]);
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(info.status.success(), "{text}");
    assert!(text.contains(&format!("images     {}", m.images.len())), "{text}");
    assert!(text.contains("valid      yes"), "{text}");
}

#[test]
fn globs_and_single_files_are_inputs_too() {
    let data = skimage_data();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    let pattern = data.join("c*.png");
    let (ok, stdout, stderr) = build(&[&pattern, &data.join("rocket.jpg")], &out, &[]);
    assert!(ok, "{stdout}\n{stderr}");
    let bundle = Bundle::open(&out).unwrap();
    let names: Vec<&str> = bundle.manifest.images.iter().map(|i| i.filename.as_str()).collect();
    let mut expected: Vec<String> = std::fs::read_dir(data)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('c') && n.ends_with(".png"))
        .chain(["rocket.jpg".to_string()])
        .collect();
    expected.sort();
    assert_eq!(names, expected);

    let (ok, _, stderr) = build(&[&data.join("no_such_*.png")], &tmp.path().join("b2"), &[]);
    assert!(!ok);
    assert!(stderr.contains("no_such_*.png") && stderr.contains("matches no files"), "{stderr}");
}

#[test]
fn metadata_csv_is_joined_on_filename() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    save_png(&photos.join("sub/a.png"), &RgbImage::from_pixel(8, 8, Rgb([1, 2, 3])));
    save_png(&photos.join("b.png"), &RgbImage::from_pixel(8, 8, Rgb([9, 9, 9])));
    save_png(&photos.join("c.png"), &RgbImage::from_pixel(8, 8, Rgb([50, 9, 9])));
    std::fs::copy(photos.join("c.png"), photos.join("d_copy.png")).unwrap(); // a duplicate
    let csv = tmp.path().join("meta.csv");
    std::fs::write(
        &csv,
        "filename,category,tags,year,lat,lng,archive_id\n\
         a.png,Portraits,studio|1920s,1923,48.85,2.35,INV-7\n\
         sub/../b.png,Landscapes,,,,,\n\
         b.png,Landscapes,,1901,,,\n\
         d_copy.png,Copies,,,,,\n\
         missing.png,Ghosts,,,,,\n",
    )
    .unwrap();
    let out = tmp.path().join("bundle");
    let (ok, stdout, stderr) = build(&[&photos], &out, &["--metadata", csv.to_str().unwrap()]);
    assert!(ok, "{stdout}\n{stderr}");
    let bundle = Bundle::open(&out).unwrap();
    let a = &record(&bundle, "sub/a.png").metadata;
    assert_eq!(a.category.as_deref(), Some("Portraits"));
    assert_eq!(a.tags, ["studio", "1920s"]);
    assert_eq!((a.year, a.lat, a.lng), (Some(1923), Some(48.85), Some(2.35)));
    assert_eq!(a.extra.get("archive_id").map(String::as_str), Some("INV-7"));
    assert_eq!(record(&bundle, "b.png").metadata.year, Some(1901));
    assert!(record(&bundle, "c.png").metadata.is_empty(), "an image without a row is fine");
    // The duplicate's row counts as matched: its picture is in the bundle as c.png.
    assert!(stdout.contains("metadata   3 of 5 rows matched an image"), "{stdout}");
    assert!(
        stdout.contains("unmatched, e.g. missing.png, sub/../b.png\n"),
        "unmatched rows are named: {stdout}"
    );
    // The metadata gives layouts: two categories, two years, one place (no x/y: no custom one).
    let names: Vec<&str> = bundle.manifest.layouts.iter().map(|l| l.name.as_str()).collect();
    for name in ["category", "year", "map"] {
        assert!(names.contains(&name), "no {name} layout in {names:?}");
    }
    assert!(!names.contains(&"custom"), "{names:?}");
    let year = &bundle.positions[bundle.layout_index("year").unwrap()];
    let id = |name: &str| bundle.manifest.images.iter().position(|i| i.filename == name).unwrap();
    assert!(year[id("b.png")][0] < year[id("sub/a.png")][0], "1901 left of 1923");
    let info = pixfly(&["info".as_ref(), out.as_os_str()]);
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("Map (latitude, longitude)") && text.contains("By year"), "{text}");
}

#[test]
fn bad_csv_rows_stop_the_build_naming_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    save_png(&photos.join("a.png"), &RgbImage::from_pixel(8, 8, Rgb([1, 2, 3])));
    let csv = tmp.path().join("meta.csv");
    std::fs::write(&csv, "filename,year,lng\na.png,1900,0\nb.png,nineteen-ten,0\nc.png,1910,200\nd.png,1\n")
        .unwrap();
    let out = tmp.path().join("bundle");
    let (ok, _, stderr) = build(&[&photos], &out, &["--metadata", csv.to_str().unwrap()]);
    assert!(!ok, "a bad CSV stops the build");
    let csv = csv.display();
    assert!(
        stderr.contains(&format!("{csv}:3: column 'year': \"nineteen-ten\" is not a whole year")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{csv}:4: column 'lng': \"200\" is not a number between -180 and 180")));
    assert!(stderr.contains(&format!("{csv}:5: 2 fields, but the header has 3")), "{stderr}");
    assert!(!out.join("manifest.json").exists(), "nothing was written");
}

#[test]
fn info_rejects_a_damaged_bundle_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    save_png(&photos.join("a.png"), &RgbImage::from_pixel(8, 8, Rgb([1, 2, 3])));
    let out = tmp.path().join("bundle");
    assert!(build(&[&photos], &out, &[]).0);

    let manifest = out.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("\"thumbs/", "\"../../thumbs/")).unwrap();
    let info = pixfly(&["info".as_ref(), out.as_os_str()]);
    let stderr = String::from_utf8_lossy(&info.stderr);
    assert!(!info.status.success());
    assert!(stderr.contains("must be relative") && stderr.contains("a.png"), "{stderr}");

    std::fs::write(&manifest, text.replace(&format!("\"version\": {SCHEMA_VERSION}"), "\"version\": 7"))
        .unwrap();
    let info = pixfly(&["info".as_ref(), out.as_os_str()]);
    let stderr = String::from_utf8_lossy(&info.stderr);
    assert!(stderr.contains("schema version 7 is not supported"), "{stderr}");
}
