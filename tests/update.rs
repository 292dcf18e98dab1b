//! Building again into a bundle places new images among the old ones, which keep their places;
//! removed images leave; `--relayout` lays everything out afresh.

mod common;

use common::*;
use image::{Rgb, RgbImage};
use pixfly_core::bundle::Bundle;
use pixfly_core::reduce::update::Fit;
use std::collections::HashMap;
use std::path::Path;

/// `count` images of `group` (0..3) starting at `from`, with their vectors as CSV rows: three
/// groups far apart in vector space, a little spread within each.
fn add_images(dir: &Path, csv: &mut String, group: u32, from: u32, count: u32) {
    for i in from..from + count {
        let name = format!("g{group}_{i:03}.png");
        let colour = [[200, 60, 60], [60, 200, 60], [60, 60, 200]][group as usize];
        let shade = (i * 37 % 50) as u8;
        // The first pixel makes each image's content unique (duplicates would be merged).
        RgbImage::from_fn(48, 32, |x, y| {
            if (x, y) == (0, 0) {
                Rgb([i as u8, group as u8, 0])
            } else {
                Rgb(colour.map(|c: u8| c.saturating_sub(shade + (x as u8 % 7))))
            }
        })
        .save(dir.join(&name))
        .unwrap();
        // Scattered, not on a curve: one blob per group.
        let jitter = |salt: u32| {
            ((i.wrapping_mul(2_654_435_761) ^ (salt * 40_503 + group * 7919)) % 1000) as f32 / 1000.0 - 0.5
        };
        let mut v = [0.1 * jitter(1), 0.1 * jitter(2), 0.1 * jitter(3), 0.1 * jitter(4)];
        v[group as usize] += 1.0;
        csv.push_str(&format!("{name},{},{},{},{}\n", v[0], v[1], v[2], v[3]));
    }
}

/// Every image's similar images are its nearest by cosine distance, as a full search finds them
/// (each listed one no farther than the true k-th nearest).
fn assert_similar_lists_exact(dir: &Path) {
    let bundle = Bundle::open(dir).unwrap();
    let vectors = bundle.read_embeddings(dir).unwrap().expect("vectors");
    let n = vectors.nrows();
    let row = |i: usize| vectors.row(i).to_vec();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let distance =
        |a: &[f32], b: &[f32]| 1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / (norm(a) * norm(b));
    for i in 0..n {
        let me = row(i);
        let listed = bundle.similar(i as u32);
        assert_eq!(listed.len(), 12);
        let mut all: Vec<f32> = (0..n).filter(|&j| j != i).map(|j| distance(&me, &row(j))).collect();
        all.sort_by(f32::total_cmp);
        for &j in listed {
            assert_ne!(j as usize, i);
            let d = distance(&me, &row(j as usize));
            assert!(
                d <= all[11] + 1e-5,
                "image {i} lists {j} at {d}, but 12 images are nearer than {}",
                all[11]
            );
        }
    }
}

/// A folder of `per_group` images of each of three groups, and the CSV of their vectors (path
/// and text, to add to).
fn three_groups(root: &Path, per_group: u32) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let images = root.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let csv_path = root.join("vectors.csv");
    let mut csv = String::from("filename,a,b,c,d\n");
    for group in 0..3 {
        add_images(&images, &mut csv, group, 0, per_group);
    }
    std::fs::write(&csv_path, &csv).unwrap();
    (images, csv_path, csv)
}

fn build_into(images: &Path, csv: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["--embeddings", csv.to_str().unwrap(), "--min-cluster-size", "20"];
    args.extend(extra);
    let (ok, stdout, stderr) = build(&[images], out, &args);
    assert!(ok, "build failed: {stderr}");
    stdout
}

fn positions(bundle: &Bundle, layout: &str) -> HashMap<String, [f32; 3]> {
    let index = bundle.layout_index(layout).unwrap();
    bundle
        .manifest
        .images
        .iter()
        .map(|i| (i.filename.clone(), bundle.positions[index][i.id as usize]))
        .collect()
}

/// The largest distance from `after` to the best uniform scale and shift of `before`, over
/// the images both have, as a fraction of the layout's extent: 0 when no image moved (a
/// layout is normalised to its extent, which new images may change).
fn moved(before: &HashMap<String, [f32; 3]>, after: &HashMap<String, [f32; 3]>) -> f32 {
    let pairs: Vec<([f32; 3], [f32; 3])> =
        before.iter().filter_map(|(name, b)| after.get(name).map(|a| (*b, *a))).collect();
    let n = pairs.len() as f32;
    let mean = |points: Vec<[f32; 3]>| {
        let s = points.iter().fold([0.0; 3], |s, p| [s[0] + p[0], s[1] + p[1], s[2] + p[2]]);
        s.map(|v| v / n)
    };
    let (mb, ma) = (mean(pairs.iter().map(|p| p.0).collect()), mean(pairs.iter().map(|p| p.1).collect()));
    let d = |p: [f32; 3], m: [f32; 3]| [p[0] - m[0], p[1] - m[1], p[2] - m[2]];
    let dot = |a: [f32; 3], b: [f32; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let scale = pairs.iter().map(|p| dot(d(p.1, ma), d(p.0, mb))).sum::<f32>()
        / pairs.iter().map(|p| dot(d(p.0, mb), d(p.0, mb))).sum::<f32>();
    pairs
        .iter()
        .map(|p| {
            let r = d(d(p.1, ma), d(p.0, mb).map(|v| v * scale));
            dot(r, r).sqrt()
        })
        .fold(0.0, f32::max)
        / 2.0
}

#[test]
fn new_images_join_the_layout_without_moving_the_old_ones() {
    let root = tempfile::tempdir().unwrap();
    let (images, csv_path, mut csv) = three_groups(root.path(), 60);
    let out = root.path().join("bundle");
    build_into(&images, &csv_path, &out, &[]);
    let first = Bundle::open(&out).unwrap();
    let fit = Fit::summary(&out).expect("a fit in the cache");
    assert_eq!((fit.fitted, fit.transformed), (180, 0));

    // Three new images per group.
    for group in 0..3 {
        add_images(&images, &mut csv, group, 60, 3);
    }
    std::fs::write(&csv_path, &csv).unwrap();
    let stdout = build_into(&images, &csv_path, &out, &[]);
    assert!(stdout.contains("9 new image(s) placed among the 180"), "{stdout}");
    let second = Bundle::open(&out).unwrap();
    assert_eq!(second.manifest.image_count, 189);
    for layout in ["umap2d", "umap3d"] {
        let shift = moved(&positions(&first, layout), &positions(&second, layout));
        assert!(shift < 1e-4, "old images moved by {shift} of the {layout} layout");
    }
    // Each new image lands among its own group, and joins its group's hotspot.
    let after = positions(&second, "umap2d");
    let group_of = |name: &str| name.as_bytes()[1];
    for new in second.manifest.images.iter().filter(|i| i.filename.contains("_06")) {
        let p = after[&new.filename];
        let nearest = first
            .manifest
            .images
            .iter()
            .map(|old| (old.filename.as_str(), after[&old.filename]))
            .min_by(|a, b| {
                let d = |q: [f32; 3]| (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2);
                d(a.1).total_cmp(&d(b.1))
            })
            .unwrap();
        assert_eq!(group_of(nearest.0), group_of(&new.filename), "{} landed by {}", new.filename, nearest.0);
        let hotspot = second.manifest.clusters.iter().find(|c| c.members.contains(&new.id));
        let hotspot = hotspot.unwrap_or_else(|| {
            let sizes: Vec<(usize, String)> = second
                .manifest
                .clusters
                .iter()
                .map(|c| (c.members.len(), second.manifest.images[c.members[0] as usize].filename.clone()))
                .collect();
            panic!("{} is in no hotspot (hotspots: {sizes:?})", new.filename)
        });
        let same = hotspot
            .members
            .iter()
            .filter(|&&m| group_of(&second.manifest.images[m as usize].filename) == group_of(&new.filename));
        assert!(same.count() * 2 > hotspot.members.len(), "{} joined another group's hotspot", new.filename);
    }
    let info = pixfly(&["info".as_ref(), out.as_os_str()]);
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("180 images laid out in full, 9 placed among them since"), "{info}");
    // The similar-image lists were updated, not searched again: still exactly the nearest.
    assert_similar_lists_exact(&out);

    // Removed files leave; the others stay put.
    for name in ["g0_000.png", "g1_001.png", "g2_002.png"] {
        std::fs::remove_file(images.join(name)).unwrap();
    }
    build_into(&images, &csv_path, &out, &[]);
    let third = Bundle::open(&out).unwrap();
    assert_eq!(third.manifest.image_count, 186);
    assert!(moved(&positions(&second, "umap2d"), &positions(&third, "umap2d")) < 1e-4);
    assert_eq!(Fit::summary(&out).unwrap().transformed, 9);
    assert_similar_lists_exact(&out);

    // --relayout: everything afresh, the count starts again.
    let stdout = build_into(&images, &csv_path, &out, &["--relayout"]);
    assert!(!stdout.contains("placed among"), "{stdout}");
    let fit = Fit::summary(&out).unwrap();
    assert_eq!((fit.fitted, fit.transformed), (186, 0));
}

/// Where each image's cell is: (atlas path, rect), by filename.
fn cells(bundle: &Bundle) -> HashMap<String, (String, [u32; 4])> {
    let atlases = &bundle.manifest.atlases;
    let images = bundle.manifest.images.iter();
    images.map(|i| (i.filename.clone(), (atlases[i.atlas as usize].path.clone(), i.rect))).collect()
}

#[test]
fn an_addition_writes_only_the_atlas_it_changes() {
    let root = tempfile::tempdir().unwrap();
    let (images, csv_path, mut csv) = three_groups(root.path(), 50);
    let out = root.path().join("bundle");
    // 512-pixel cells: 64 to an atlas, so 150 images fill two and part of a third.
    let big_cells = ["--cell", "512"];
    build_into(&images, &csv_path, &out, &big_cells);
    let first = Bundle::open(&out).unwrap();
    assert_eq!(first.manifest.atlases.len(), 3);

    // New images sort among the old ones (g0_050 after g0_049) but go after the last cell.
    for group in 0..3 {
        add_images(&images, &mut csv, group, 50, 3);
    }
    std::fs::write(&csv_path, &csv).unwrap();
    build_into(&images, &csv_path, &out, &big_cells);
    let second = Bundle::open(&out).unwrap();
    let (before, after) = (cells(&first), cells(&second));
    assert!(before.keys().all(|name| before[name].1 == after[name].1), "an old image changed place");
    for a in 0..2 {
        assert_eq!(first.manifest.atlases[a], second.manifest.atlases[a], "atlas {a} was written again");
    }
    assert_ne!(first.manifest.atlases[2], second.manifest.atlases[2]);
    for new in second.manifest.images.iter().filter(|i| i.filename.contains("_05")) {
        assert_eq!(new.atlas, 2, "{} is not in the last atlas", new.filename);
    }
    let info = pixfly(&["info".as_ref(), "--deep".as_ref(), out.as_os_str()]);
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));

    // A removed image leaves its atlas (written again without it); the others stay.
    std::fs::remove_file(images.join("g0_000.png")).unwrap();
    build_into(&images, &csv_path, &out, &big_cells);
    let third = Bundle::open(&out).unwrap();
    assert_ne!(third.manifest.atlases[0], second.manifest.atlases[0]);
    assert_eq!(third.manifest.atlases[1..], second.manifest.atlases[1..]);
    assert!(!std::fs::exists(out.join(&second.manifest.atlases[0].path)).unwrap());

    // --relayout packs afresh: image i in cell i.
    build_into(&images, &csv_path, &out, &["--cell", "512", "--relayout"]);
    let fourth = Bundle::open(&out).unwrap();
    assert!(fourth.manifest.images.iter().all(|i| i.atlas == i.id / 64));
}
