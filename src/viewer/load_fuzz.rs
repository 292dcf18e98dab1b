//! The viewer's own load path against random bundles that the reader accepts: the bundle asset
//! loader in a headless app (no window, no GPU), then what the first frame does with the
//! collection (framing each layout, building each atlas's quads). None may panic, and every
//! framing must be finite: a bundle `pixfly info` calls valid must open.

use super::ViewerState;
use super::camera::framing;
use super::loading::{BUNDLE_SOURCE, Collection, LayoutRequest, LoadFailure, LoadingPlugin};
use super::rendering::{Emphasis, LayoutTransition, QuadTexture, quads_mesh};
use bevy::asset::AssetMetaCheck;
use bevy::asset::io::AssetSourceBuilder;
use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use pixfly_core::bundle::{Bundle, encode_neighbours, encode_positions};
use serde_json::json;
use std::path::Path;

/// xorshift: deterministic, so a failing case can be rerun.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    fn coordinate(&mut self) -> f32 {
        let unit = (self.below(2001) as f32 - 1000.0) / 1000.0;
        self.pick(&[unit, unit, 0.0, 1.0, -1.0, unit * 3e38, unit * 1e-30, unit * 1e6])
    }
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let pixels = vec![90u8; (width * height * 3) as usize];
    jpeg_encoder::Encoder::new(&mut out, 80)
        .encode(&pixels, width as u16, height as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// A random bundle in `dir`, within what the format allows.
fn random_bundle(dir: &Path, rng: &mut Rng) {
    let count = 1 + rng.below(6) as u32;
    let cell = rng.pick(&[1u32, 4, 64, 300]);
    let atlases: Vec<(u32, u32)> = (0..1 + rng.below(3))
        .map(|_| (rng.pick(&[1, cell, 2 * cell, 333]), rng.pick(&[1, cell, 77])))
        .collect();
    std::fs::create_dir_all(dir.join("atlases")).unwrap();
    std::fs::create_dir_all(dir.join("thumbs")).unwrap();
    std::fs::create_dir_all(dir.join("layouts")).unwrap();
    for (i, &(w, h)) in atlases.iter().enumerate() {
        std::fs::write(dir.join(format!("atlases/a{i}.jpg")), jpeg(w, h)).unwrap();
    }
    let images: Vec<_> = (0..count)
        .map(|id| {
            let atlas = rng.below(atlases.len() as u64) as usize;
            let (aw, ah) = atlases[atlas];
            let w = 1 + rng.below(u64::from(aw.min(cell))) as u32;
            let h = 1 + rng.below(u64::from(ah.min(cell))) as u32;
            let (x, y) = (rng.below(u64::from(aw - w + 1)) as u32, rng.below(u64::from(ah - h + 1)) as u32);
            std::fs::write(dir.join(format!("thumbs/{id}.jpg")), jpeg(1 + w % 7, 1 + h % 7)).unwrap();
            json!({"id": id, "filename": format!("{id}.png"), "thumb": format!("thumbs/{id}.jpg"),
                   "width": 1 + rng.below(50_000), "height": 1 + rng.below(50_000), "atlas": atlas,
                   "rect": [x, y, w, h], "hash": "ab".repeat(32)})
        })
        .collect();
    let mut layouts = Vec::new();
    let names = ["grid", "umap3d", "umap2d", "custom"];
    for (i, name) in names.iter().take(1 + rng.below(4) as usize).enumerate() {
        let dims = if i == 0 { 2 } else { rng.pick(&[2, 3]) };
        let same = rng.below(4) == 0; // every image at one place
        let first = [rng.coordinate(), rng.coordinate(), 0.0];
        let positions: Vec<[f32; 3]> = (0..count)
            .map(|_| {
                let z = if dims == 3 { rng.coordinate() } else { 0.0 };
                if same { first } else { [rng.coordinate(), rng.coordinate(), z] }
            })
            .collect();
        let path = format!("layouts/{name}.f32");
        std::fs::write(dir.join(&path), encode_positions(&positions)).unwrap();
        layouts.push(json!({"name": name, "title": name, "dims": dims, "path": path}));
    }
    let layouts_here: Vec<&str> = names.iter().take(layouts.len()).copied().collect();
    let clusters: Vec<_> = (0..rng.below(3))
        .map(|c| {
            let members: Vec<u32> = (0..count).filter(|_| rng.below(2) == 0).collect();
            let centroids: serde_json::Map<_, _> = layouts_here
                .iter()
                .map(|l| (l.to_string(), json!([rng.coordinate(), rng.coordinate(), 0.0])))
                .collect();
            json!({"name": format!("group {c}"), "representative": rng.below(u64::from(count)),
                   "members": members, "centroids": centroids})
        })
        .collect();
    let mut manifest = json!({
        "format": "pixfly-bundle", "version": pixfly_core::bundle::SCHEMA_VERSION, "generator": "fuzz",
        "image_count": count, "cell_size": cell, "thumb_size": 1 + rng.below(512),
        "atlases": atlases.iter().enumerate().map(|(i, (w, h))| json!({"path": format!("atlases/a{i}.jpg"), "width": w, "height": h})).collect::<Vec<_>>(),
        "layouts": layouts, "images": images, "clusters": clusters,
    });
    if count >= 2 && rng.below(2) == 0 {
        let k = 1 + rng.below(u64::from(count - 1)) as u32;
        let ids: Vec<u32> = (0..count).flat_map(|i| (1..=k).map(move |d| (i + d) % count)).collect();
        std::fs::create_dir_all(dir.join("neighbours")).unwrap();
        std::fs::write(dir.join("neighbours/n.u32"), encode_neighbours(&ids)).unwrap();
        manifest["neighbours"] = json!({"k": k, "path": "neighbours/n.u32"});
    }
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
}

/// Load `dir` as the viewer does, in a headless app: the collection, or why it failed.
fn load_headless(dir: &Path) -> Result<Collection, String> {
    let mut app = App::new();
    app.register_asset_source(
        BUNDLE_SOURCE,
        AssetSourceBuilder::platform_default(dir.to_str().unwrap(), None),
    );
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin { meta_check: AssetMetaCheck::Never, ..default() },
        StatesPlugin,
    ))
    .init_asset::<Image>()
    .init_state::<ViewerState>()
    .init_resource::<LayoutRequest>()
    .add_plugins(LoadingPlugin { load_bundle: true, tour: false });
    for _ in 0..5000 {
        app.update();
        match app.world().resource::<State<ViewerState>>().get() {
            ViewerState::Exploring => return Ok(app.world().resource::<Collection>().clone()),
            ViewerState::Failed => return Err(app.world().resource::<LoadFailure>().0.clone()),
            ViewerState::Loading => std::thread::sleep(std::time::Duration::from_millis(1)),
        }
    }
    Err("the bundle never finished loading".into())
}

/// What the first frame computes from the collection, for every layout.
fn first_frames(collection: &Collection) {
    let manifest = &collection.bundle.manifest;
    for (layout, places) in collection.places.iter().enumerate() {
        assert!(places.iter().all(|p| p.is_finite()), "layout {layout} has a non-finite place");
        for (size, covered) in [(Vec2::new(1600.0, 900.0), 270.0), (Vec2::new(1.0, 1.0), 0.0)] {
            let flat = manifest.layouts[layout].dims == 2;
            let (focus, distance, yaw, pitch) = framing(places, 1.8, flat, size, covered);
            assert!(
                focus.is_finite() && distance.is_finite() && distance > 0.0,
                "layout {layout}: {focus} {distance}"
            );
            assert!(yaw.is_finite() && pitch.is_finite());
        }
        let transition = LayoutTransition::at(collection, layout);
        for atlas in 0..manifest.atlases.len() {
            let images: Vec<u32> =
                manifest.images.iter().filter(|i| i.atlas as usize == atlas).map(|i| i.id).collect();
            let mesh =
                quads_mesh(collection, &images, QuadTexture::Atlas(atlas), &transition, &Emphasis(None));
            assert_eq!(mesh.count_vertices(), images.len() * 4);
        }
    }
}

#[test]
fn no_bundle_the_reader_accepts_can_panic_the_viewer_on_its_way_to_the_first_frame() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut opened = 0;
    for case in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        random_bundle(dir.path(), &mut rng);
        if let Err(e) = Bundle::open(dir.path()) {
            panic!("case {case}: the generator made a bundle the reader refuses: {e}");
        }
        let collection = load_headless(dir.path()).unwrap_or_else(|e| panic!("case {case}: {e}"));
        first_frames(&collection);
        opened += 1;
    }
    assert_eq!(opened, 40);
}
