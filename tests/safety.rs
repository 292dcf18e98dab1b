//! A hostile but realistic user: output folders that hold other people's files, bundles received
//! from elsewhere with links and oversized files in them, a disk that fills up. pixfly must never
//! delete or publish what is not its own, never panic, and never read without bound.

mod common;

use common::*;
use image::{Rgb, RgbImage};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

fn photos(dir: &Path, count: u8) -> PathBuf {
    for i in 0..count {
        let colour = [i.wrapping_mul(40), 200 - i, 30 + i];
        save_png(&dir.join(format!("p{i:02}.png")), &halves(40 + u32::from(i), 30, colour, [i, i, i]));
    }
    dir.to_path_buf()
}

fn info(bundle: &Path) -> (bool, String) {
    let out = pixfly(&["info".as_ref(), bundle.as_os_str()]);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A stand-in for web/dist: export-web only copies these, so the checks need no wasm build.
fn fake_viewer(root: &Path) -> PathBuf {
    let dir = root.join("viewer");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["index.html", "pixfly.js", "pixfly_bg.wasm"] {
        std::fs::write(dir.join(name), name).unwrap();
    }
    dir
}

fn export(bundle: &Path, site: &Path, viewer: &Path) -> (bool, String) {
    let args: [&OsStr; 6] = [
        "export-web".as_ref(),
        bundle.as_os_str(),
        "-o".as_ref(),
        site.as_os_str(),
        "--viewer".as_ref(),
        viewer.as_os_str(),
    ];
    let out = pixfly(&args);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_folder_pixfly_did_not_make_is_refused_and_left_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let input = photos(&tmp.path().join("good"), 3);
    let d = tmp.path().join("d");
    std::fs::create_dir_all(d.join("thumbs")).unwrap();
    std::fs::create_dir_all(d.join("layouts")).unwrap();
    std::fs::write(d.join("thumbs/holiday.jpg"), b"x").unwrap();
    std::fs::write(d.join("layouts/plan.pdf"), b"x").unwrap();
    let (ok, _, stderr) = build(&[&input], &d, &["--no-embed"]);
    assert!(!ok && stderr.contains("is not a pixfly bundle"), "{stderr}");
    assert!(d.join("thumbs/holiday.jpg").exists() && d.join("layouts/plan.pdf").exists());
    assert!(!d.join("manifest.json").exists());
}

#[test]
fn a_rebuild_deletes_only_what_its_previous_manifest_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let input = photos(&tmp.path().join("good"), 4);
    let out = tmp.path().join("bundle");
    assert!(build(&[&input], &out, &["--no-embed"]).0);
    let before = pixfly_core::bundle::Bundle::open(&out).unwrap();
    let gone = record(&before, "p03.png").thumb.clone();
    // The user's own notes in the bundle's folders, and a file named like one of ours.
    std::fs::write(out.join("thumbs/notes.txt"), b"mine").unwrap();
    std::fs::write(out.join("layouts/grid-0000000000000000.f32"), b"mine").unwrap();
    std::fs::write(out.join("embeddings.npy"), b"mine").unwrap();
    std::fs::remove_file(input.join("p03.png")).unwrap();
    let (ok, _, stderr) = build(&[&input], &out, &["--no-embed"]);
    assert!(ok, "{stderr}");
    assert!(!out.join(&gone).exists(), "the dropped image's thumbnail goes: the old manifest listed it");
    for kept in ["thumbs/notes.txt", "layouts/grid-0000000000000000.f32", "embeddings.npy"] {
        assert!(out.join(kept).exists(), "{kept} was never pixfly's");
    }
}

#[test]
fn the_output_may_not_be_or_hold_or_lie_inside_an_input_nor_be_root_or_home() {
    let tmp = tempfile::tempdir().unwrap();
    let input = photos(&tmp.path().join("input"), 2);
    std::fs::create_dir_all(input.join("thumbs")).unwrap();
    save_png(&input.join("thumbs/original.png"), &RgbImage::from_pixel(9, 9, Rgb([9, 9, 9])));
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join(".bashrc"), b"x").unwrap();
    let cases: [(&Path, &str); 5] = [
        (&input, "is the same folder as the input"),
        (&input.join("bundle"), "is inside the input"),
        (tmp.path(), "holds the input"),
        (Path::new("/"), "choose a new folder"),
        (&home, "choose a new folder"),
    ];
    for (out, why) in cases {
        let (ok, _, stderr) =
            build_with_env(&[&input], out, &["--no-embed"], &[("HOME", home.to_str().unwrap())]);
        assert!(!ok && stderr.contains(why), "-o {}: {stderr}", out.display());
    }
    assert!(input.join("thumbs/original.png").exists() && input.join("p00.png").exists());
    assert!(!input.join("manifest.json").exists() && !input.join("bundle").exists());

    // A bundle that once landed inside a collection is never ingested as images.
    let (ok, _, stderr) = build(&[&input], &tmp.path().join("elsewhere/b"), &["--no-embed"]);
    assert!(ok, "{stderr}");
    let outer = tmp.path().join("outer");
    std::fs::create_dir_all(&outer).unwrap();
    std::fs::rename(tmp.path().join("elsewhere"), outer.join("elsewhere")).unwrap();
    std::fs::rename(&input, outer.join("input")).unwrap();
    let (ok, stdout, stderr) = build(&[&outer], &tmp.path().join("b2"), &["--no-embed"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("images     3 in"), "three photos, none of the bundle's files: {stdout}");
}

#[test]
fn export_web_publishes_only_the_bundles_own_files_and_never_writes_over_its_source() {
    let tmp = tempfile::tempdir().unwrap();
    let viewer = fake_viewer(tmp.path());
    let src = tmp.path().join("src");
    let bundle = src.join("bundle");
    assert!(build(&[&photos(&tmp.path().join("good"), 3)], &bundle, &["--no-embed"]).0);
    std::fs::write(src.join("notes.txt"), b"mine").unwrap();

    // Into the bundle's parent, into the bundle, into a folder of someone else's: refused.
    for (site, why) in
        [(&src, "holds the bundle being exported"), (&bundle.join("site"), "is inside the bundle")]
    {
        let (ok, stderr) = export(&bundle, site, &viewer);
        assert!(!ok && stderr.contains(why), "{stderr}");
    }
    assert!(info(&bundle).0 && bundle.join("cache").is_dir() && src.join("notes.txt").exists());
    let (ok, stderr) = export(&bundle, &src.join("notes-folder/.."), &viewer);
    assert!(!ok && stderr.contains("holds the bundle"), "{stderr}");

    // A site export-web made is brought up to date; its other files stay.
    let site = tmp.path().join("site");
    assert!(export(&bundle, &site, &viewer).0);
    std::fs::write(site.join("about.html"), b"mine").unwrap();
    let (ok, stderr) = export(&bundle, &site, &viewer);
    assert!(ok, "{stderr}");
    assert!(site.join("about.html").exists() && site.join("bundle/manifest.json").exists());

    // A received bundle with a thumbnail linked to a private file: invalid, and not published.
    let secret = tmp.path().join("passwd");
    std::fs::write(&secret, b"root:x:0:0").unwrap();
    let thumb = pixfly_core::bundle::Bundle::open(&bundle).unwrap().manifest.images[0].thumb.clone();
    std::fs::remove_file(bundle.join(&thumb)).unwrap();
    std::os::unix::fs::symlink(&secret, bundle.join(&thumb)).unwrap();
    let (ok, stderr) = info(&bundle);
    assert!(!ok && stderr.contains("outside the bundle"), "{stderr}");
    let site2 = tmp.path().join("site2");
    let (ok, stderr) = export(&bundle, &site2, &viewer);
    assert!(!ok && stderr.contains("outside the bundle"), "{stderr}");
    assert!(!site2.join("bundle").join(&thumb).exists());
}

/// A change to a manifest's JSON.
type Edit = dyn Fn(&mut serde_json::Value);

/// A bundle whose manifest is edited by `change`, checked by `info` and by the viewer.
fn edited_bundle(root: &Path, change: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let out = root.join("bundle");
    if !out.exists() {
        assert!(build(&[&photos(&root.join("good"), 2)], &out, &["--no-embed"]).0);
        std::fs::copy(out.join("manifest.json"), root.join("manifest.orig")).unwrap();
    }
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.orig")).unwrap()).unwrap();
    change(&mut manifest);
    std::fs::write(out.join("manifest.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
    out
}

#[test]
fn bundles_without_layouts_or_images_are_invalid_for_info_and_the_viewer_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let no_layouts = |m: &mut serde_json::Value| m["layouts"] = serde_json::json!([]);
    let no_images = |m: &mut serde_json::Value| {
        m["images"] = serde_json::json!([]);
        m["image_count"] = 0.into();
    };
    let no_grid = |m: &mut serde_json::Value| {
        m["layouts"][0]["name"] = "other".into();
    };
    let cases: [(&Edit, &str); 3] = [
        (&no_layouts, "no \"grid\" layout"),
        (&no_images, "holds no images"),
        (&no_grid, "no \"grid\" layout"),
    ];
    for (change, why) in cases {
        let bundle = edited_bundle(tmp.path(), change);
        let (ok, stderr) = info(&bundle);
        assert!(!ok && stderr.contains(why), "{stderr}");
        let png = tmp.path().join("shot.png");
        let args: [&OsStr; 4] =
            ["view".as_ref(), bundle.as_os_str(), "--screenshot".as_ref(), png.as_os_str()];
        let out = pixfly(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "an error, not a panic: {stderr}");
        assert!(stderr.contains(why), "{stderr}");
    }
}

/// `pixfly info` under a 2 GiB address-space limit, so an unbounded read fails the test fast.
fn info_capped(bundle: &Path) -> (bool, String) {
    let script =
        format!("ulimit -v 2097152; exec '{}' info '{}'", env!("CARGO_BIN_EXE_pixfly"), bundle.display());
    let out = std::process::Command::new("sh").arg("-c").arg(script).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn oversized_and_endless_bundle_files_are_refused_from_their_size_without_reading_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    assert!(build(&[&photos(&tmp.path().join("good"), 2)], &out, &["--no-embed"]).0);
    assert!(info_capped(&out).0, "a good bundle passes under the cap");
    let layout = pixfly_core::bundle::Bundle::open(&out).unwrap().manifest.layouts[0].path.clone();

    // A sparse 3 GB layout file: refused from its size.
    std::fs::remove_file(out.join(&layout)).unwrap();
    std::fs::File::create(out.join(&layout)).unwrap().set_len(3 << 30).unwrap();
    let (ok, stderr) = info_capped(&out);
    assert!(!ok && stderr.contains("holds 3221225472 bytes, more than the 24"), "{stderr}");

    // A link to /dev/zero: not a file of the bundle.
    std::fs::remove_file(out.join(&layout)).unwrap();
    std::os::unix::fs::symlink("/dev/zero", out.join(&layout)).unwrap();
    let (ok, stderr) = info_capped(&out);
    assert!(!ok && stderr.contains("outside the bundle"), "{stderr}");

    // A manifest that is a link to /dev/zero.
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", out.join("manifest.json")).unwrap();
    let (ok, stderr) = info_capped(&out);
    assert!(!ok && stderr.contains("outside the bundle"), "{stderr}");
}

#[test]
fn info_checks_the_atlases_against_the_manifest_and_deep_decodes_every_picture() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    assert!(build(&[&photos(&tmp.path().join("good"), 3)], &out, &["--no-embed"]).0);
    let bundle = pixfly_core::bundle::Bundle::open(&out).unwrap();
    let atlas = bundle.manifest.atlases[0].path.clone();
    let original = std::fs::read(out.join(&atlas)).unwrap();
    std::fs::write(out.join(&atlas), jpeg_bytes(&RgbImage::new(64, 64), 80)).unwrap();
    let (ok, stderr) = info(&out);
    assert!(!ok && stderr.contains("is 64×64, but the manifest records"), "{stderr}");
    std::fs::write(out.join(&atlas), b"garbage").unwrap();
    let (ok, stderr) = info(&out);
    assert!(!ok && stderr.contains("is not a JPEG"), "{stderr}");
    std::fs::write(out.join(&atlas), &original).unwrap();

    let thumb = &bundle.manifest.images[1].thumb;
    let deep = || {
        let out = pixfly(&["info".as_ref(), out.as_os_str(), "--deep".as_ref()]);
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert!(deep().0, "{}", deep().1);
    std::fs::write(out.join(thumb), jpeg_bytes(&RgbImage::new(200, 10), 80)).unwrap();
    assert!(info(&out).0, "the quick check reads no thumbnails");
    let (ok, stderr) = deep();
    assert!(!ok && stderr.contains(&format!("{thumb} (p01.png) is 200×10")), "{stderr}");
    std::fs::write(out.join(thumb), b"garbage").unwrap();
    let (ok, stderr) = deep();
    assert!(!ok && stderr.contains(&format!("{thumb} is not a JPEG")), "{stderr}");
}

/// A small tmpfs at `dir`, if this machine lets the test mount one (root, in CI).
fn small_disk(dir: &Path, size: &str) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("SKIPPED: cannot mount a tmpfs here (not root?), so the full-disk case is not tried");
    }
    mounted
}

#[test]
fn a_full_disk_stops_the_build_with_a_clear_error_and_a_rerun_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("photos");
    write_photo_set(&input, 40, 400, 300);
    let disk = tmp.path().join("disk");
    if !small_disk(&disk, "400k") {
        return;
    }
    let out = disk.join("bundle");
    let (ok, stdout, stderr) = build(&[&input], &out, &["--no-embed", "--thumb", "256"]);
    let remount = |size: &str| {
        std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&disk)
            .status()
            .unwrap()
    };
    let freed = remount("64m");
    let (ok2, stdout2, stderr2) = build(&[&input], &out, &["--no-embed", "--thumb", "256"]);
    let _ = std::process::Command::new("umount").arg(&disk).status();
    assert!(freed.success());
    assert!(!ok, "a full disk is an error, not skipped images: {stdout}");
    assert!(stderr.contains("No space left on device") && stderr.contains("cannot write"), "{stderr}");
    assert!(!stderr.contains("skipping"), "no image is blamed: {stderr}");
    assert!(ok2, "{stderr2}");
    assert!(stdout2.contains("images     40 in"), "{stdout2}");
    let reused: usize = stdout2
        .lines()
        .find(|l| l.starts_with("files"))
        .and_then(|l| l.split_whitespace().filter_map(|w| w.parse().ok()).nth(1))
        .unwrap();
    assert!(reused > 0, "what was cached before the disk filled is kept: {stdout2}");
}

#[test]
fn pictures_over_the_pixel_limit_are_read_row_by_row_into_the_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("scans");
    // 3.84 megapixels each, with --max-megapixels 1: over the limit, so read row by row (PNG,
    // TIFF) or shrunk while decoding (JPEG).
    let (w, h) = (2400, 1600);
    let scan = halves(w, h, [200, 40, 40], [40, 40, 200]);
    save_png(&input.join("scan.png"), &scan);
    scan.save(input.join("scan.tiff")).unwrap();
    std::fs::write(input.join("scan.jpg"), jpeg_bytes(&scan, 90)).unwrap();
    image::GrayImage::from_fn(w, h, |x, _| image::Luma([if x < w / 2 { 20 } else { 230 }]))
        .save(input.join("gray.png"))
        .unwrap();
    let out = tmp.path().join("bundle");
    let (ok, stdout, stderr) = build(&[&input], &out, &["--no-embed", "--max-megapixels", "1"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("images     4 in") && !stdout.contains("skipped"), "{stdout}");
    let bundle = pixfly_core::bundle::Bundle::open(&out).unwrap();
    for name in ["scan.png", "scan.tiff", "scan.jpg"] {
        assert_eq!((record(&bundle, name).width, record(&bundle, name).height), (w, h));
        assert_close(atlas_pixel(&out, &bundle, name, 0.5, 0.2), [200, 40, 40], 12, name);
        assert_close(atlas_pixel(&out, &bundle, name, 0.5, 0.8), [40, 40, 200], 12, name);
    }
    assert_close(atlas_pixel(&out, &bundle, "gray.png", 0.2, 0.5), [20, 20, 20], 12, "gray.png");
    assert_close(atlas_pixel(&out, &bundle, "gray.png", 0.8, 0.5), [230, 230, 230], 12, "gray.png");

    // Sixteen times the limit is the most a picture may have, streamed or not.
    let (ok, stdout, _) = build(&[&input], &tmp.path().join("b2"), &["--no-embed", "--max-megapixels", "0"]);
    assert!(!ok, "every picture is over a limit of 0: {stdout}");
}

#[test]
fn an_error_names_its_cause_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, stderr) = info(&tmp.path().join("nowhere"));
    assert!(!ok && stderr.matches("No such file or directory").count() == 1, "{stderr}");
}
