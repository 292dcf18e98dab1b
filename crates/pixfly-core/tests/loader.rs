//! The bundle loader against hostile input: targeted breakages, each with its own clear error,
//! and property tests that corrupt manifests and layout files at random. The loader must never
//! panic, and whatever it accepts must satisfy every invariant a viewer relies on.

use pixfly_core::bundle::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;

fn valid_manifest() -> Value {
    let image = |id: u32, x: u32, w: u32, h: u32| {
        json!({
            "id": id, "filename": format!("photos/{id}.jpg"), "thumb": format!("thumbs/{id}.jpg"),
            "width": w * 10, "height": h * 10, "atlas": 0, "rect": [x, (64 - h) / 2, w, h],
            "hash": "ab".repeat(32), "metadata": {"category": "c", "tags": ["t"], "year": 1900},
            "auto_tags": [[1, 0.75], [0, 0.125]]
        })
    };
    json!({
        "format": "pixfly-bundle", "version": 4, "generator": "test", "image_count": 3,
        "cell_size": 64, "thumb_size": 256,
        "atlases": [{"path": "atlases/a.jpg", "width": 192, "height": 64}],
        "layouts": [
            {"name": "grid", "title": "Grid", "dims": 2, "path": "layouts/grid.f32"},
            {"name": "umap3d", "title": "UMAP", "dims": 3, "path": "layouts/u.f32"}
        ],
        "images": [image(0, 0, 64, 48), image(1, 64, 40, 64), image(2, 128, 64, 64)],
        "clusters": [{"name": "stars", "representative": 1, "members": [0, 1],
                      "centroids": {"grid": [-0.5, 0.0, 0.0], "umap3d": [-0.2, 0.35, 0.65]}}],
        "embedding": {"model": "m", "dims": 4, "path": "embeddings.npy", "hash": "cd", "classes": ["a", "b"]},
        "neighbours": {"k": 2, "path": "neighbours/n.u32"}
    })
}

fn files() -> HashMap<String, Vec<u8>> {
    let grid = encode_positions(&[[-1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]);
    let umap = encode_positions(&[[0.1, 0.2, 0.3], [-0.5, 0.5, 1.0], [1.0, -1.0, 0.0]]);
    let neighbours = encode_neighbours(&[1, 2, 0, 2, 1, 0]);
    HashMap::from([
        ("layouts/grid.f32".into(), grid),
        ("layouts/u.f32".into(), umap),
        ("neighbours/n.u32".into(), neighbours),
    ])
}

fn load(manifest: &[u8], files: &HashMap<String, Vec<u8>>) -> Result<Bundle, BundleError> {
    Bundle::from_parts(manifest, |path, _| {
        files.get(path).cloned().ok_or_else(|| BundleError::Invalid(format!("{path} missing")))
    })
}

fn load_value(v: &Value) -> Result<Bundle, BundleError> {
    load(&serde_json::to_vec(v).unwrap(), &files())
}

/// What a viewer relies on, written independently of the loader's own checks.
fn assert_invariants(b: &Bundle) {
    let m = &b.manifest;
    assert_eq!(m.images.len(), m.image_count as usize);
    assert_eq!(b.positions.len(), m.layouts.len());
    for p in &b.positions {
        assert_eq!(p.len(), m.images.len());
        assert!(p.iter().flatten().all(|v| v.is_finite()));
    }
    let safe = |p: &str| !p.starts_with('/') && !p.split('/').any(|s| s == ".." || s.is_empty());
    assert!(m.atlases.iter().all(|a| safe(&a.path) && a.width <= 4096 && a.height <= 4096));
    assert!(m.layouts.iter().all(|l| safe(&l.path) && (l.dims == 2 || l.dims == 3)));
    for (i, img) in m.images.iter().enumerate() {
        assert_eq!(img.id as usize, i);
        assert!(safe(&img.thumb));
        let atlas = &m.atlases[img.atlas as usize];
        let [x, y, w, h] = img.rect.map(u64::from);
        assert!(w > 0 && h > 0 && x + w <= u64::from(atlas.width) && y + h <= u64::from(atlas.height));
    }
    for c in &m.clusters {
        assert!(c.representative < m.image_count && c.members.iter().all(|&id| id < m.image_count));
    }
}

#[test]
fn the_valid_bundle_loads() {
    let bundle = load_value(&valid_manifest()).unwrap();
    assert_invariants(&bundle);
    assert_eq!(bundle.positions[1][1], [-0.5, 0.5, 1.0]);
    assert_eq!(bundle.layout_index("umap3d"), Some(1));
    assert_eq!(bundle.similar(1), [0, 2]);
}

#[test]
fn each_breakage_gets_its_own_message() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/format", json!("zip"), "not a pixfly bundle"),
        ("/version", json!(5), "schema version 5 is not supported"),
        ("/version", json!(3), "schema version 3 is not supported"),
        ("/version", json!(2), "schema version 2 is not supported"),
        ("/version", json!(1), "schema version 1 is not supported"),
        ("/images/0/auto_tags/1/0", json!(2), "each needs a class below 2"),
        ("/images/0/auto_tags/1/1", json!(1.5), "a probability in 0..=1"),
        ("/embedding/path", json!("../x.npy"), "must be relative"),
        ("/embedding/dims", json!(0), "embedding has 0 dims"),
        ("/neighbours/path", json!("/tmp/n.u32"), "must be relative"),
        ("/neighbours/k", json!(0), "neighbours has k = 0"),
        ("/neighbours/k", json!(3), "holds 24 bytes, expected 36"),
        ("/image_count", json!(4), "image_count is 4 but the manifest lists 3 images"),
        ("/images/1/id", json!(7), "has id 7, expected 1"),
        ("/images/1/atlas", json!(1), "refers to atlas 1 but there are 1"),
        ("/images/2/rect", json!([150, 0, 64, 64]), "outside its 192×64 atlas"),
        ("/images/2/rect", json!([0, 0, 0, 64]), "which is empty"),
        ("/images/0/thumb", json!("../secrets.jpg"), "must be relative"),
        ("/images/0/thumb", json!("/etc/passwd"), "must be relative"),
        ("/atlases/0/path", json!("C:\\atlas.jpg"), "must be relative"),
        ("/atlases/0/width", json!(8192), "each side must be 1..=4096"),
        ("/layouts/1/dims", json!(4), "expected 2 or 3"),
        ("/layouts/1/name", json!("grid"), "empty or repeated"),
        ("/clusters/0/members", json!([0, 3]), "refers to a missing image"),
        ("/clusters/0/centroids/umap2d", json!([0, 0, 0]), "bad centroid for \"umap2d\""),
        ("/cell_size", json!(0), "cell_size 0"),
        ("/images/0/width", json!(-3), "invalid value"),
        ("/images/0/surprise", json!(1), "unknown field"),
    ];
    for (pointer, value, expected) in cases {
        let mut m = valid_manifest();
        match m.pointer_mut(pointer) {
            Some(slot) => *slot = value,
            None => {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                m.pointer_mut(parent).unwrap().as_object_mut().unwrap().insert(key.into(), value);
            }
        }
        let err = load_value(&m).expect_err(pointer).to_string();
        assert!(err.contains(expected), "{pointer}: expected {expected:?} in {err:?}");
    }
}

#[test]
fn layout_files_are_checked() {
    let manifest = serde_json::to_vec(&valid_manifest()).unwrap();
    let mut short = files();
    short.get_mut("layouts/u.f32").unwrap().truncate(35);
    let err = load(&manifest, &short).unwrap_err().to_string();
    assert!(err.contains("holds 35 bytes, expected 36"), "{err}");

    let mut nan = files();
    nan.insert("layouts/u.f32".into(), encode_positions(&[[0.0; 3], [f32::NAN, 0.0, 0.0], [0.0; 3]]));
    let err = load(&manifest, &nan).unwrap_err().to_string();
    assert!(err.contains("non-finite position for image 1"), "{err}");

    for (ids, expected) in
        [([1, 2, 0, 2, 1, 3], "image 2's neighbour 3"), ([1, 2, 1, 2, 1, 0], "image 1's neighbour 1")]
    {
        let mut bad = files();
        bad.insert("neighbours/n.u32".into(), encode_neighbours(&ids));
        let err = load(&manifest, &bad).unwrap_err().to_string();
        assert!(err.contains(expected), "{err}");
    }
}

/// Every leaf of a JSON value, as a JSON pointer.
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => map.iter().for_each(|(k, v)| leaves(v, format!("{at}/{k}"), out)),
        Value::Array(items) => {
            items.iter().enumerate().for_each(|(i, v)| leaves(v, format!("{at}/{i}"), out))
        }
        _ => out.push(at),
    }
}

fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(2),
            Just(3),
            Just(63),
            Just(64),
            Just(4096),
            Just(4097)
        ]
        .prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        prop_oneof![Just(".."), Just("../x"), Just("/abs"), Just(""), Just("a//b"), Just("ok/x.jpg")]
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(json!([])),
        Just(json!([0, 0, 1, 1])),
        Just(json!({})),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_field_changes_never_panic_and_never_slip_through(
        picks in prop::collection::vec((any::<prop::sample::Index>(), hostile_value()), 1..4)
    ) {
        let mut m = valid_manifest();
        let mut pointers = Vec::new();
        leaves(&m, String::new(), &mut pointers);
        for (index, value) in picks {
            *m.pointer_mut(&pointers[index.index(pointers.len())]).unwrap() = value;
        }
        if let Ok(bundle) = load_value(&m) {
            assert_invariants(&bundle);
        }
    }

    #[test]
    fn random_byte_damage_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = serde_json::to_vec(&valid_manifest()).unwrap();
        for (at, byte, kind) in edits {
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        if let Ok(bundle) = load(&bytes, &files()) {
            assert_invariants(&bundle);
        }
    }

    #[test]
    fn random_layout_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let manifest = serde_json::to_vec(&valid_manifest()).unwrap();
        let mut damaged = files();
        damaged.insert("layouts/grid.f32".into(), bytes);
        if let Ok(bundle) = load(&manifest, &damaged) {
            assert_invariants(&bundle);
        }
    }
}
