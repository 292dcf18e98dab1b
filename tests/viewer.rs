//! `pixfly view --screenshot` end to end: the real viewer renders a small bundle on the CPU
//! (Mesa's lavapipe Vulkan under Xvfb) and the pictures are checked against the bundle.

mod common;

use common::*;
use image::RgbImage;
use pixfly_core::bundle::Bundle;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Run the viewer headless on the CPU; returns (success, stderr).
fn view(bundle: &Path, args: &[&str]) -> (bool, String) {
    let lavapipe = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";
    assert!(Path::new(lavapipe).exists(), "Mesa's lavapipe is missing: run scripts/install-viewer-deps.sh");
    let output = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x1024x24"])
        .arg(env!("CARGO_BIN_EXE_pixfly"))
        .arg("view")
        .arg(bundle)
        .args(args)
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", lavapipe)
        .env("NO_COLOR", "1")
        .output()
        .expect("xvfb-run runs (scripts/install-viewer-deps.sh installs it)");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

struct Shot {
    picture: RgbImage,
    report: Value,
}

fn screenshot(bundle: &Path, name: &str, args: &[&str]) -> Shot {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("viewer");
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join(format!("{name}.png"));
    let json = dir.join(format!("{name}.json"));
    let _ = std::fs::remove_file(&png);
    let mut all = vec!["--screenshot", png.to_str().unwrap(), "--report", json.to_str().unwrap()];
    if !args.contains(&"--size") {
        all.extend(["--size", "640x480"]);
    }
    all.extend(args);
    let (ok, stderr) = view(bundle, &all);
    assert!(ok, "viewer failed: {stderr}");
    let picture = image::open(&png).unwrap().into_rgb8();
    let report = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    Shot { picture, report }
}

/// Each image drawn large enough, whose centre is in the picture: (id, x, y, half-width).
fn drawn(report: &Value, picture: &RgbImage) -> Vec<(usize, f32, f32, f32)> {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let f = |k: &str| i[k].as_f64().unwrap() as f32;
            (i["id"].as_u64().unwrap() as usize, f("x"), f("y"), f("half_width"))
        })
        .filter(|&(_, x, y, half)| {
            half >= 6.0
                && x >= half
                && y >= half
                && x < picture.width() as f32 - half
                && y < picture.height() as f32 - half
        })
        .collect()
}

/// Every image the report says is drawn shows its own pixels there: the upper half's colour
/// a quarter above the centre, the lower half's a quarter below. Returns how many matched.
fn matching_images(dir: &Path, bundle: &Bundle, shot: &Shot) -> (usize, usize) {
    let images = drawn(&shot.report, &shot.picture);
    let mut matched = 0;
    for &(id, x, y, half) in &images {
        let name = &bundle.manifest.images[id].filename;
        let at = |dy: f32| shot.picture.get_pixel(x as u32, (y + dy) as u32).0;
        if near(at(-half / 2.0), atlas_pixel(dir, bundle, name, 0.5, 0.25), 12)
            && near(at(half / 2.0), atlas_pixel(dir, bundle, name, 0.5, 0.75), 12)
        {
            matched += 1;
        }
    }
    (matched, images.len())
}

/// Where images pile up, whichever lies on top, each point sampled in [`matching_images`] must
/// show the pixel of one of the images the report puts over it, at that place in the image
/// (in its atlas cell, or in its thumbnail when it is drawn close up). Returns how many points
/// no image explains.
fn unexplained_points(dir: &Path, bundle: &Bundle, shot: &Shot) -> usize {
    let all = drawn(&shot.report, &shot.picture);
    let close_ups: Vec<usize> =
        shot.report["close_ups"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let thumb = |id: usize| image::open(dir.join(&bundle.manifest.images[id].thumb)).unwrap().into_rgb8();
    let thumbs: Vec<(usize, RgbImage)> = close_ups.iter().map(|&id| (id, thumb(id))).collect();
    let shows = |id: usize, half: f32, fx: f32, fy: f32, got: [u8; 3]| match thumbs.iter().find(|t| t.0 == id)
    {
        // A thumbnail has detail the screen cannot hold: the spot's pixels blend, so their
        // mean (or any one of them) will do.
        Some((_, t)) => {
            let (x, y) = ((fx * t.width() as f32) as i64, (fy * t.height() as f32) as i64);
            let spot: Vec<[u8; 3]> = (-2..=2)
                .flat_map(|dx| (-2..=2).map(move |dy| (x + dx, y + dy)))
                .map(|(x, y)| {
                    let clamp = |v: i64, size: u32| v.clamp(0, i64::from(size) - 1) as u32;
                    t.get_pixel(clamp(x, t.width()), clamp(y, t.height())).0
                })
                .collect();
            let mean = [0, 1, 2].map(|c| (spot.iter().map(|p| u32::from(p[c])).sum::<u32>() / 25) as u8);
            spot.iter().chain([&mean]).any(|&p| near(got, p, 24))
        }
        // A cell drawn smaller than it is blends neighbouring texels: within a pixel of where two
        // colours meet, anything between them.
        None => {
            let name = &bundle.manifest.images[id].filename;
            let at =
                |fx: f32, fy: f32| atlas_pixel(dir, bundle, name, fx.clamp(0.0, 0.999), fy.clamp(0.0, 0.999));
            let d = 1.0 / half;
            let between = |a: [u8; 3], b: [u8; 3]| {
                (0..3).all(|c| {
                    let (lo, hi) = (a[c].min(b[c]) as i32 - 12, a[c].max(b[c]) as i32 + 12);
                    (lo..=hi).contains(&(got[c] as i32))
                })
            };
            near(got, at(fx, fy), 12)
                || between(at(fx, fy - d), at(fx, fy + d))
                || between(at(fx - d, fy), at(fx + d, fy))
        }
    };
    let explained = |px: f32, py: f32| {
        let got = shot.picture.get_pixel(px as u32, py as u32).0;
        all.iter().any(|&(id, x, y, half)| {
            let (fx, fy) = (0.5 + (px - x) / (2.0 * half), 0.5 + (py - y) / (2.0 * half));
            // A pixel's width of slack at the edges, where the rasteriser and the report differ.
            let slack = 1.0 / (2.0 * half);
            let edges = -slack..1.0 + slack;
            let inside = edges.contains(&fx) && edges.contains(&fy);
            inside && shows(id, half, fx.clamp(0.0, 0.999), fy.clamp(0.0, 0.999), got)
        })
    };
    let points = all.iter().flat_map(|&(_, x, y, half)| [(x, y - half / 2.0), (x, y + half / 2.0)]);
    points.filter(|&(x, y)| !explained(x, y)).count()
}

/// Least-squares fit of screen coordinate against layout coordinate: the largest residual as
/// a fraction of the screen spread. Small when the picture is the layout, seen head on.
fn misfit(layout: &[[f32; 3]], report: &Value) -> f32 {
    let images = report["images"].as_array().unwrap();
    let mut worst = 0.0f32;
    for (axis, key, sign) in [(0, "x", 1.0), (1, "y", -1.0)] {
        let pairs: Vec<(f32, f32)> = images
            .iter()
            .map(|i| {
                (sign * layout[i["id"].as_u64().unwrap() as usize][axis], i[key].as_f64().unwrap() as f32)
            })
            .collect();
        let n = pairs.len() as f32;
        let (mx, my) = pairs.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
        let sxy: f32 = pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
        let sxx: f32 = pairs.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
        let slope = sxy / sxx;
        assert!(slope > 0.0, "screen {key} runs against the layout");
        let spread = pairs.iter().map(|(_, y)| y).fold(f32::MIN, |a, &b| a.max(b))
            - pairs.iter().map(|(_, y)| y).fold(f32::MAX, |a, &b| a.min(b));
        for (x, y) in &pairs {
            worst = worst.max((y - (my + slope * (x - mx))).abs() / spread);
        }
    }
    worst
}

#[test]
fn the_viewer_draws_each_image_where_its_layout_puts_it_and_selects_by_click() {
    let root = tempfile::tempdir().unwrap();
    let dir = two_tone_bundle(root.path());
    let bundle = Bundle::open(&dir).unwrap();
    let grid = bundle.layout_index("grid").unwrap();
    let umap = bundle.layout_index("umap2d").unwrap();

    // The grid, straight from the start: every image visible, each in its own place (in a
    // window small enough that the atlas cells are drawn, not the close-ups).
    let shot = screenshot(&dir, "grid", &["--layout", "grid", "--size", "560x420"]);
    assert_eq!(shot.report["layout"], "grid");
    assert_eq!(shot.picture.dimensions(), (560, 420));
    let (matched, drawn_count) = matching_images(&dir, &bundle, &shot);
    assert_eq!(drawn_count, 25, "all 25 images should be in the frame");
    assert_eq!(matched, 25, "images whose pixels are not where the report says");
    assert_eq!(shot.report["close_ups"].as_array().unwrap().len(), 0, "nothing is magnified yet");
    // The atlas as drawn: at its full size (far within the texture budget) with its mip chain.
    let atlas = &bundle.manifest.atlases[0];
    let mips: u64 = (0..=atlas.width.max(atlas.height).ilog2())
        .map(|level| u64::from((atlas.width >> level).max(1)) * u64::from((atlas.height >> level).max(1)) * 4)
        .sum();
    assert_eq!(shot.report["atlas_texture_bytes"].as_u64(), Some(mips));
    assert!(misfit(&bundle.positions[grid], &shot.report) < 0.02, "the picture is not the grid layout");
    let background = shot.picture.get_pixel(2, 2).0;
    assert!(background.iter().all(|&c| c < 40), "expected the dark background, got {background:?}");

    // Switching layouts animates to the new places and ends exactly there.
    let shot = screenshot(&dir, "switched", &["--layout", "grid", "--switch-to", "umap2d"]);
    assert_eq!(shot.report["layout"], "umap2d");
    assert!(
        misfit(&bundle.positions[umap], &shot.report) < 0.02,
        "the images did not end at the UMAP places"
    );
    // UMAP piles similar images on each other: the one on top of a pile covers the others.
    let drawn_count = drawn(&shot.report, &shot.picture).len();
    assert!(drawn_count >= 20, "only {drawn_count} images drawn in full");
    let unexplained = unexplained_points(&dir, &bundle, &shot);
    assert_eq!(unexplained, 0, "points that show none of the images placed over them");

    // A click on a known image selects it, and the picture frames it in gold.
    let shot = screenshot(&dir, "grid", &["--layout", "grid"]);
    let &(id, x, y, half) = drawn(&shot.report, &shot.picture).iter().find(|i| i.0 == 5).unwrap();
    let click = format!("{x},{y}");
    let shot = screenshot(&dir, "clicked", &["--layout", "grid", "--click", &click]);
    assert_eq!(shot.report["selected"].as_u64(), Some(id as u64));
    // Drawn 1.3× larger with a frame 4% of its size wide: its edge lies 1.27–1.3 half-sides out.
    let edge = shot.picture.get_pixel(x as u32, (y - half * 1.28) as u32).0;
    assert_close(edge, [255, 199, 51], 24, "frame of the selected image");
    // With the panels shown, the view moves right of the collection panel (no image under
    // it), and the click opens the detail panel on the right with the image's thumbnail: its
    // upper colour fills a good part of the panel.
    let shot = screenshot(&dir, "panels", &["--layout", "grid", "--panels"]);
    let beside = drawn(&shot.report, &shot.picture);
    assert_eq!(beside.len(), 25, "images outside the picture with the panels shown");
    let hidden: Vec<_> = beside.iter().filter(|i| i.1 - i.3 < 270.0).collect();
    assert!(hidden.is_empty(), "images under the collection panel: {hidden:?}");
    let &(_, x, y, _) = beside.iter().find(|i| i.0 == id).unwrap();
    let click = format!("{x},{y}");
    let shot = screenshot(&dir, "detail", &["--layout", "grid", "--click", &click, "--panels"]);
    assert_eq!(shot.report["selected"].as_u64(), Some(id as u64));
    let name = &bundle.manifest.images[id].filename;
    let upper = atlas_pixel(&dir, &bundle, name, 0.5, 0.25);
    let panel = image::imageops::crop_imm(&shot.picture, 440, 0, 200, 480).to_image();
    let share = panel.pixels().filter(|p| near(p.0, upper, 12)).count() as f32 / (200.0 * 480.0);
    assert!(share > 0.05, "the detail panel shows {:.1}% of the thumbnail's colour", share * 100.0);

    // Opening with an image asked for (a shared link on the web) selects it and flies up to it.
    let shot = screenshot(&dir, "opened", &["--layout", "grid", "--image", &id.to_string()]);
    assert_eq!(shot.report["selected"].as_u64(), Some(id as u64));
    let close_ups = shot.report["close_ups"].as_array().unwrap();
    assert!(close_ups.contains(&Value::from(id)), "not flown up to: {close_ups:?}");

    // A click on empty space selects nothing.
    let shot = screenshot(&dir, "missed", &["--layout", "grid", "--click", "3,3"]);
    assert!(shot.report["selected"].is_null());
}

/// Mean half-width and mean height on the picture of every image in front of the camera.
fn mean_size_and_height(report: &Value) -> (f32, f32) {
    let images = report["images"].as_array().unwrap();
    let mean =
        |key: &str| images.iter().map(|i| i[key].as_f64().unwrap() as f32).sum::<f32>() / images.len() as f32;
    (mean("half_width"), mean("y"))
}

#[test]
fn keys_glide_across_the_view_and_fly_mode_flies_into_it() {
    let root = tempfile::tempdir().unwrap();
    let dir = two_tone_bundle(root.path());
    let start = screenshot(&dir, "keys-start", &["--layout", "grid"]);
    assert_eq!(start.report["fly_mode"], false);
    // W without fly mode glides up across the view: the images slide down, as large as before.
    let glide = screenshot(&dir, "keys-glide", &["--layout", "grid", "--keys", "W*3"]);
    // G turns fly mode on; W then flies along the view, into the grid: the images grow.
    let flown = screenshot(&dir, "keys-fly", &["--layout", "grid", "--keys", "G W*20"]);
    assert_eq!(glide.report["fly_mode"], false);
    assert_eq!(flown.report["fly_mode"], true);
    for shot in [&start, &glide, &flown] {
        assert_eq!(shot.report["images"].as_array().unwrap().len(), 25, "all 25 images are in front");
    }
    let (size, height) = mean_size_and_height(&start.report);
    let (glide_size, glide_height) = mean_size_and_height(&glide.report);
    let (flown_size, _) = mean_size_and_height(&flown.report);
    assert!((glide_size / size - 1.0).abs() < 0.02, "gliding changed the size: {size} -> {glide_size}");
    assert!(
        glide_height > height + 10.0,
        "gliding up did not move the images down: {height} -> {glide_height}"
    );
    assert!(
        flown_size > size * 1.1,
        "flying forward did not bring the images closer: {size} -> {flown_size}"
    );
}

#[test]
fn a_search_lights_its_matches_and_dims_the_rest() {
    let root = tempfile::tempdir().unwrap();
    let dir = two_tone_bundle(root.path());
    let bundle = Bundle::open(&dir).unwrap();
    // img00 … img09 match; img10 … img23 and zz_detail do not.
    let shot = screenshot(&dir, "search", &["--layout", "grid", "--search", "IMG0"]);
    let images = drawn(&shot.report, &shot.picture);
    assert_eq!(images.len(), 25);
    let mut dimmed = 0;
    for &(id, x, y, half) in &images {
        let name = &bundle.manifest.images[id].filename;
        let want = atlas_pixel(&dir, &bundle, name, 0.5, 0.25);
        let got = shot.picture.get_pixel(x as u32, (y - half / 2.0) as u32).0;
        if name.starts_with("img0") {
            assert_close(got, want, 12, &format!("match {name}"));
        } else {
            // Dimmed to a fifth of its light (in linear terms): about half its sRGB value.
            let ratio = |c: usize| f32::from(got[c]) / f32::from(want[c]).max(1.0);
            let brightest = (0..3).max_by_key(|&c| want[c]).unwrap();
            assert!((0.3..0.7).contains(&ratio(brightest)), "{name} not dimmed: {got:?} for {want:?}");
            dimmed += 1;
        }
    }
    assert_eq!(dimmed, 15);
}

/// Mean absolute difference between horizontal neighbours: how much fine detail there is.
fn detail(image: &RgbImage) -> f32 {
    let mut sum = 0u64;
    for y in 0..image.height() {
        for x in 1..image.width() {
            let (a, b) = (image.get_pixel(x - 1, y).0, image.get_pixel(x, y).0);
            sum += a.iter().zip(b).map(|(&p, q)| u64::from(p.abs_diff(q))).sum::<u64>();
        }
    }
    sum as f32 / (image.width() * image.height()) as f32
}

#[test]
fn a_close_look_shows_the_close_up_thumbnail_not_the_blurred_atlas_cell() {
    let root = tempfile::tempdir().unwrap();
    let dir = two_tone_bundle(root.path());
    let bundle = Bundle::open(&dir).unwrap();
    let id = record(&bundle, "zz_detail.png").id;
    let shot = screenshot(&dir, "close-up", &["--layout", "grid", "--close-up", &id.to_string()]);
    let close_ups: Vec<u64> =
        shot.report["close_ups"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert!(close_ups.contains(&u64::from(id)), "{close_ups:?}");
    let &(_, x, y, half) = drawn(&shot.report, &shot.picture).iter().find(|i| i.0 == id as usize).unwrap();
    // The middle 80% of the image as drawn, against its atlas cell enlarged to the same size.
    let side = (half * 1.6) as u32;
    let seen = image::imageops::crop_imm(
        &shot.picture,
        (x - half * 0.8) as u32,
        (y - half * 0.8) as u32,
        side,
        side,
    )
    .to_image();
    let r = record(&bundle, "zz_detail.png");
    let atlas = image::open(dir.join(&bundle.manifest.atlases[r.atlas as usize].path)).unwrap().into_rgb8();
    let cell = image::imageops::crop_imm(&atlas, r.rect[0], r.rect[1], r.rect[2], r.rect[3]).to_image();
    let enlarged = image::imageops::resize(&cell, side, side, image::imageops::FilterType::Triangle);
    let (sharp, blurred) = (detail(&seen), detail(&enlarged));
    assert!(sharp > 4.0 * blurred.max(1.0), "close-up detail {sharp} vs atlas cell {blurred}");
}

#[test]
fn a_bundle_that_cannot_be_shown_gets_a_clear_message() {
    let root = tempfile::tempdir().unwrap();
    // Not a bundle at all: refused before any window opens.
    let (ok, stderr) = view(root.path(), &["--screenshot", "x.png"]);
    assert!(!ok && stderr.contains("manifest.json"), "{stderr}");

    // An unknown layout name lists the ones there are.
    let dir = two_tone_bundle(root.path());
    let png = root.path().join("never.png");
    let (ok, stderr) = view(&dir, &["--screenshot", png.to_str().unwrap(), "--layout", "nope"]);
    assert!(!ok && stderr.contains("umap2d"), "{stderr}");

    // A bundle whose atlas is damaged: the viewer says which file, and exits with an error.
    let bundle = Bundle::open(&dir).unwrap();
    let atlas = &bundle.manifest.atlases[0].path;
    std::fs::write(dir.join(atlas), b"not a jpeg").unwrap();
    let (ok, stderr) = view(&dir, &["--screenshot", png.to_str().unwrap()]);
    assert!(!ok && stderr.contains(atlas.as_str()), "{stderr}");
    assert!(!png.exists());
}

/// From a report of a `width × height` picture: the share of the picture covered by images,
/// the share of the images' area hidden under other images, and the median image side (px).
fn coverage(report: &Value, width: usize, height: usize) -> (f64, f64, f32) {
    let mut covered = vec![false; width * height];
    let mut area = 0usize;
    let mut sides = Vec::new();
    for image in report["images"].as_array().unwrap() {
        let f = |k: &str| image[k].as_f64().unwrap();
        let (x, y, hw, hh) = (f("x"), f("y"), f("half_width"), f("half_height"));
        sides.push(2.0 * hw.max(hh) as f32);
        let columns = ((x - hw).max(0.0) as usize)..((x + hw).min(width as f64).max(0.0) as usize);
        let rows = ((y - hh).max(0.0) as usize)..((y + hh).min(height as f64).max(0.0) as usize);
        for row in rows {
            area += columns.len();
            covered[row * width..][columns.clone()].iter_mut().for_each(|c| *c = true);
        }
    }
    let covered = covered.iter().filter(|&&c| c).count();
    sides.sort_by(f32::total_cmp);
    let hidden = if area > 0 { 1.0 - covered as f64 / area as f64 } else { 0.0 };
    (covered as f64 / (width * height) as f64, hidden, sides[sides.len() / 2])
}

/// 300 images whose vectors fall in five tight groups, and three odd ones far from everything.
fn piled_up_bundle(root: &Path) -> std::path::PathBuf {
    let images = root.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let mut csv = String::from("filename,a,b,c,d,e,f\n");
    for i in 0..303u32 {
        let name = format!("img{i:03}.png");
        let colour = [i % 7, i / 7 % 7, i / 49].map(|c| (c * 30 + 40) as u8);
        RgbImage::from_pixel(24, 24, image::Rgb(colour)).save(images.join(&name)).unwrap();
        let mut v = [0.0f32; 6];
        if i < 300 {
            v[(i % 5) as usize] = 1.0;
            v[5] = (i as f32 * 0.73).sin() * 0.02;
        } else {
            v = [(i as f32).sin() * 9.0, -4.0, 7.0, (i as f32).cos() * 5.0, 2.0, -8.0];
        }
        let row: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        csv.push_str(&format!("{name},{}\n", row.join(",")));
    }
    std::fs::write(root.join("vectors.csv"), csv).unwrap();
    let out = root.join("bundle");
    let vectors = root.join("vectors.csv");
    let (ok, _, stderr) = build(&[&images], &out, &["--embeddings", vectors.to_str().unwrap()]);
    assert!(ok, "build failed: {stderr}");
    out
}

#[test]
fn the_first_view_shows_every_image_and_fills_the_screen() {
    let root = tempfile::tempdir().unwrap();
    let dir = piled_up_bundle(root.path());
    let first = screenshot(&dir, "first-view", &["--size", "1600x900"]);
    assert_eq!(first.report["layout"], "spread2d", "the first view is the spread-out layout");
    let (covered, hidden, side) = coverage(&first.report, 1600, 900);
    println!("spread2d: {:.1}% covered, {:.1}% hidden, median {side:.1} px", covered * 100.0, hidden * 100.0);
    assert_eq!(first.report["images"].as_array().unwrap().len(), 303, "every image is in view");
    assert!(covered >= 0.35, "the first view covers {:.1}% of the screen", covered * 100.0);
    assert!(hidden <= 0.10, "{:.1}% of the image area is hidden", hidden * 100.0);
    // Raw UMAP piles each group up: the measure sees it.
    let umap = screenshot(&dir, "first-view-umap", &["--size", "1600x900", "--layout", "umap2d"]);
    let (umap_covered, umap_hidden, umap_side) = coverage(&umap.report, 1600, 900);
    println!(
        "umap2d: {:.1}% covered, {:.1}% hidden, median {umap_side:.1} px",
        umap_covered * 100.0,
        umap_hidden * 100.0
    );
    assert!(
        umap_hidden > 0.5 && umap_covered < covered / 2.0,
        "UMAP 2D: {umap_covered:.3} covered, {umap_hidden:.3} hidden"
    );
}
