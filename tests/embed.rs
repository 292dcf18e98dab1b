//! The embedding stage end to end: the real network (EfficientNet-Lite0 through ONNX Runtime,
//! both installed by scripts/setup.sh) on real photos from scikit-image.

mod common;

use common::*;
use image::RgbImage;
use pixfly_core::bundle::Bundle;
use pixfly_core::embed;
use std::path::Path;

/// Copy some of scikit-image's photos into `dir`.
fn photos(dir: &Path, names: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for name in names {
        std::fs::copy(skimage_data().join(name), dir.join(name)).unwrap();
    }
}

/// The bundle's vectors, one row per image id.
fn vectors(bundle_dir: &Path) -> Vec<Vec<f32>> {
    let array = embed::vectors::from_npy(&std::fs::read(bundle_dir.join("embeddings.npy")).unwrap()).unwrap();
    array.rows().into_iter().map(|r| r.to_vec()).collect()
}

fn top_labels(bundle: &Bundle, filename: &str) -> Vec<String> {
    let classes = &bundle.manifest.embedding.as_ref().expect("bundle has embeddings").classes;
    record(bundle, filename).auto_tags.iter().map(|&(c, _)| classes[c as usize].clone()).collect()
}

#[test]
fn the_network_sees_a_cat_and_an_espresso_in_float_and_in_int8() {
    let tmp = tempfile::tempdir().unwrap();
    photos(&tmp.path().join("in"), &["chelsea.png", "coffee.png", "rocket.jpg"]);
    let mut best = Vec::new();
    for (precision, model) in [("fp32", "efficientnet-lite0"), ("int8", "efficientnet-lite0-int8")] {
        let out = tmp.path().join(precision);
        let (ok, stdout, stderr) = build(&[&tmp.path().join("in")], &out, &["--precision", precision]);
        assert!(ok, "{stderr}");
        assert!(stdout.contains(&format!("vectors    3 computed by {model}, 0 reused")), "{stdout}");
        let bundle = Bundle::open(&out).unwrap();
        let embedding = bundle.manifest.embedding.as_ref().unwrap();
        assert_eq!((embedding.model.as_str(), embedding.dims, embedding.classes.len()), (model, 1280, 1000));

        let cat = top_labels(&bundle, "chelsea.png");
        let cats = ["tabby, tabby cat", "tiger cat", "Egyptian cat"];
        assert!(cat[..3].iter().all(|l| cats.contains(&l.as_str())), "{precision} chelsea.png: {cat:?}");
        let coffee = top_labels(&bundle, "coffee.png");
        assert_eq!(coffee[0], "espresso", "{precision} coffee.png: {coffee:?}");
        let p = record(&bundle, "coffee.png").auto_tags[0].1;
        assert!(p > 0.5, "{precision}: espresso with probability {p}");
        best.push([cat, coffee, top_labels(&bundle, "rocket.jpg")]);

        for (row, image) in vectors(&out).iter().zip(&bundle.manifest.images) {
            let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "{} has norm {norm}", image.filename);
        }
    }
    let [float, int8] = &best[..] else { unreachable!() };
    for (float, int8) in float.iter().zip(int8) {
        assert!(float[..3].contains(&int8[0]), "int8's best class {} is among float's {float:?}", int8[0]);
    }
    // Where pixfly picks int8 (CPUs with fast int8 products) it names the same best class. On
    // others ONNX Runtime's u8 × s8 products can saturate (its quantization docs say so) and a
    // near tie flips: chelsea.png there is tiger cat 0.40 / Egyptian cat 0.36 in float, 0.34 / 0.44
    // in int8 (AVX2 without VNNI).
    if embed::fast_int8() {
        let first = |labels: &[Vec<String>]| labels.iter().map(|l| l[0].clone()).collect::<Vec<_>>();
        assert_eq!(first(float), first(int8), "float and int8 name the same best class for each photo");
    }
}

#[test]
fn int8_is_chosen_on_fast_cpus_and_a_bundle_keeps_the_network_it_was_built_with() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    photos(&dir, &["chelsea.png", "coffee.png"]);
    let auto = if embed::fast_int8() { "efficientnet-lite0-int8" } else { "efficientnet-lite0" };
    let (ok, stdout, stderr) = build(&[&dir], &tmp.path().join("auto"), &[]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains(&format!("computed by {auto},")), "{stdout}");

    // Built in float, then rebuilt with the default: still float, nothing embedded again.
    let out = tmp.path().join("float");
    assert!(build(&[&dir], &out, &["--precision", "fp32"]).0);
    let (ok, stdout, stderr) = build(&[&dir], &out, &[]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("vectors    0 computed by efficientnet-lite0, 2 reused"), "{stdout}");
    let info = pixfly(&["info".as_ref(), out.as_os_str()]);
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    assert!(info.contains("efficientnet-lite0 ") && !info.contains("int8"), "{info}");
}

#[test]
fn crops_and_flips_of_a_photo_are_its_nearest_neighbours() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    let others = ["coffee.png", "rocket.jpg", "camera.png", "horse.png", "motorcycle_left.png", "page.png"];
    photos(&dir, &others);
    // Two families, each an original with three variants.
    for family in ["astronaut", "chelsea"] {
        let original = image::open(skimage_data().join(format!("{family}.png"))).unwrap().into_rgb8();
        let (w, h) = original.dimensions();
        let crop = |x: u32, y: u32, cw: u32, ch: u32| -> RgbImage {
            image::imageops::crop_imm(&original, x, y, cw, ch).to_image()
        };
        save_png(&dir.join(format!("{family}-original.png")), &original);
        save_png(&dir.join(format!("{family}-flipped.png")), &image::imageops::flip_horizontal(&original));
        save_png(&dir.join(format!("{family}-centre.png")), &crop(w / 10, h / 10, w * 8 / 10, h * 8 / 10));
        save_png(&dir.join(format!("{family}-corner.png")), &crop(0, 0, w * 85 / 100, h * 85 / 100));
    }
    let out = tmp.path().join("bundle");
    let (ok, _, stderr) = build(&[&dir], &out, &[]);
    assert!(ok, "{stderr}");
    let bundle = Bundle::open(&out).unwrap();
    let rows = vectors(&out);
    let names: Vec<&str> = bundle.manifest.images.iter().map(|i| i.filename.as_str()).collect();
    for (i, name) in names.iter().enumerate() {
        let Some((family, _)) = name.split_once('-') else { continue };
        let similarity = |j: usize| rows[i].iter().zip(&rows[j]).map(|(a, b)| a * b).sum::<f32>();
        let nearest =
            (0..names.len()).filter(|&j| j != i).max_by(|&a, &b| similarity(a).total_cmp(&similarity(b)));
        let nearest = names[nearest.unwrap()];
        assert!(nearest.starts_with(family), "{name}'s nearest neighbour is {nearest}, not another {family}");
    }
}

#[test]
fn a_rebuild_embeds_nothing_and_a_changed_model_embeds_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    photos(&dir, &["chelsea.png", "coffee.png", "rocket.jpg"]);
    let out = tmp.path().join("bundle");
    assert!(build(&[&dir], &out, &["--precision", "fp32"]).0);
    let first = std::fs::read(out.join("embeddings.npy")).unwrap();

    let (ok, stdout, stderr) = build(&[&dir], &out, &["--precision", "fp32"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("vectors    0 computed by efficientnet-lite0, 3 reused from the cache"),
        "{stdout}"
    );
    assert_eq!(std::fs::read(out.join("embeddings.npy")).unwrap(), first);

    // The same network in a different file (an extra metadata entry appended: protobuf merges
    // concatenated messages) is a different model as far as the cache can tell.
    let mut model =
        std::fs::read(embed::find_model("lite0", embed::Precision::Fp32, embed::Device::Cpu, None).unwrap())
            .unwrap();
    let entry = [b"\x0a\x0bpixfly.test".as_slice(), b"\x12\x07changed"].concat();
    model.push(0x72); // ModelProto field 14, metadata_props
    model.push(entry.len() as u8);
    model.extend_from_slice(&entry);
    let changed = tmp.path().join("changed.onnx");
    std::fs::write(&changed, model).unwrap();
    let (ok, stdout, stderr) = build(&[&dir], &out, &["--model", changed.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("vectors    3 computed by efficientnet-lite0, 0 reused"), "{stdout}");
}

#[test]
fn a_missing_or_broken_model_or_runtime_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    photos(&dir, &["coffee.png"]);
    let out = tmp.path().join("bundle");
    let junk = tmp.path().join("junk.onnx");
    std::fs::write(&junk, "this is not a network").unwrap();
    let missing = tmp.path().join("missing.onnx");
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&[&str], Env, &str); 5] = [
        (&["--model", missing.to_str().unwrap()], &[], "is not installed"),
        (&["--model", "lite7"], &[], "unknown model 'lite7': choose lite0, lite1, lite2 or give the path"),
        (&["--model", junk.to_str().unwrap()], &[], "junk.onnx is not a usable pixfly model"),
        (&[], &[("ORT_DYLIB_PATH", "/nowhere/libonnxruntime.so")], "ONNX Runtime 1.31.1 is not installed"),
        (&[], &[("ORT_DYLIB_PATH", junk.to_str().unwrap())], "cannot use ONNX Runtime at"),
    ];
    for (args, env, expected) in cases {
        let (ok, _, stderr) = build_with_env(&[&dir], &out, args, env);
        assert!(!ok, "{args:?} {env:?} should fail");
        assert!(stderr.contains(expected) && !stderr.contains("panicked"), "{args:?} {env:?}: {stderr}");
    }
    assert!(!out.join("manifest.json").exists(), "no bundle from a failed build");
    // Without a network the runtime is not needed at all.
    let (ok, _, stderr) = build_with_env(&[&dir], &out, &["--no-embed"], &[("ORT_DYLIB_PATH", "/nowhere")]);
    assert!(ok, "{stderr}");
}

#[test]
fn users_can_bring_their_own_vectors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    photos(&dir, &["chelsea.png", "coffee.png", "rocket.jpg"]);
    let rows: [&[f32]; 4] = [&[3.0, 4.0], &[0.0, 2.0], &[1.0, 0.0], &[5.0, 5.0]];
    std::fs::write(tmp.path().join("v.npy"), embed::vectors::to_npy(&rows, 2)).unwrap();
    std::fs::write(tmp.path().join("list.txt"), "rocket.jpg\nchelsea.png\ncoffee.png\nelsewhere.png\n")
        .unwrap();
    let out = tmp.path().join("bundle");
    let npy = tmp.path().join("v.npy");
    let list = tmp.path().join("list.txt");
    let args = ["--embeddings", npy.to_str().unwrap(), "--list", list.to_str().unwrap()];
    // No network is loaded: a missing runtime doesn't matter.
    let (ok, stdout, stderr) = build_with_env(&[&dir], &out, &args, &[("ORT_DYLIB_PATH", "/nowhere")]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("1 vector row(s) matched no image, e.g. elsewhere.png"), "{stdout}");
    let bundle = Bundle::open(&out).unwrap();
    assert_eq!(bundle.manifest.embedding.as_ref().unwrap().model, "user");
    let got = vectors(&out);
    let row = |name: &str| &got[record(&bundle, name).id as usize];
    assert_eq!(row("rocket.jpg"), &[0.6, 0.8]);
    assert_eq!(row("chelsea.png"), &[0.0, 1.0]);
    assert!(record(&bundle, "coffee.png").auto_tags.is_empty());

    std::fs::write(&list, "rocket.jpg\nchelsea.png\nnot-coffee.png\nelsewhere.png\n").unwrap();
    let (ok, _, stderr) = build(&[&dir], &out, &args);
    assert!(!ok && stderr.contains("1 image(s) have no vector in --embeddings, e.g. coffee.png"), "{stderr}");
}
