//! The pipeline plugins without a window or a GPU (`MinimalPlugins`): a small folder assembles
//! to the end, and the collection shown is the bundle `pixfly build` writes, renumbered in the
//! order the images arrived.

use super::{AssemblyPlugin, Live};
use crate::viewer::camera::FrameAll;
use crate::viewer::loading::Collection;
use crate::viewer::rendering::ShowLayout;
use crate::viewer::{CollectionSystems, ViewerState};
use bevy::prelude::*;
use pixfly_core::build::{BuildOptions, Vectors, build};
use pixfly_core::bundle::Bundle;
use std::path::Path;
use std::time::{Duration, Instant};

fn headless_app(options: BuildOptions) -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        bevy::state::app::StatesPlugin,
        bevy::input::InputPlugin,
        AssetPlugin::default(),
    ))
    .init_asset::<Image>()
    .init_state::<ViewerState>()
    .add_message::<ShowLayout>()
    .add_message::<FrameAll>()
    .configure_sets(PreUpdate, (CollectionSystems::Grow, CollectionSystems::Follow).chain())
    .add_plugins(AssemblyPlugin { options, picture_at: None, unattended: false });
    app
}

/// 36 small images in three colour groups, with vectors in three groups (as a CSV).
fn folder(root: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let images = root.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let mut csv = String::from("filename,a,b,c\n");
    for i in 0..36u32 {
        let group = i % 3;
        let mut colour = [40u8; 3];
        colour[group as usize] = 120 + (i * 3) as u8;
        let name = format!("img{i:02}.png");
        image::RgbImage::from_pixel(40 + i, 30, image::Rgb(colour)).save(images.join(&name)).unwrap();
        let mut v = [0.02 * (i as f32).sin(), 0.02 * (i as f32).cos(), 0.01 * i as f32 / 36.0];
        v[group as usize] += 1.0;
        csv.push_str(&format!("{name},{},{},{}\n", v[0], v[1], v[2]));
    }
    let vectors = root.join("vectors.csv");
    std::fs::write(&vectors, csv).unwrap();
    (images, vectors)
}

#[test]
fn the_pipeline_plugins_assemble_a_folder_into_the_bundle_build_makes() {
    let root = tempfile::tempdir().unwrap();
    let (images, vectors) = folder(root.path());
    let mut options = BuildOptions::new(vec![images], root.path().join("opened"));
    options.vectors = Vectors::File { path: vectors, list: None };
    options.layout.umap.n_neighbors = 6;

    let mut app = headless_app(options.clone());
    let started = Instant::now();
    let mut shown = Vec::new(); // the image count of each collection shown
    loop {
        app.update();
        let world = app.world();
        if let Some(collection) = world.get_resource::<Collection>()
            && shown.last().is_none_or(|&(generation, _)| generation != collection.generation)
        {
            shown.push((collection.generation, collection.image_count()));
        }
        let live = world.resource::<Live>();
        if live.finished.is_some() && !live.changed && live.shown == live.images.len() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "still assembling after 2 minutes");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(*app.world().resource::<State<ViewerState>>().get(), ViewerState::Exploring);
    assert!(shown.windows(2).all(|w| w[0].1 <= w[1].1), "the collection shrank: {shown:?}");
    assert_eq!(shown.last().unwrap().1, 36);

    // The same folder built the ordinary way writes the same bundle.
    let built_dir = root.path().join("built");
    let built_options = BuildOptions { output: built_dir.clone(), ..options.clone() };
    build(&built_options, &std::sync::atomic::AtomicBool::new(false), &()).unwrap();
    let manifest = |dir: &Path| std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert_eq!(manifest(&options.output), manifest(&built_dir));

    // What the app shows is that bundle: every image where each of its layouts puts it, with
    // the same similar images and hotspots, under the ids the images arrived with.
    let built = Bundle::open(&built_dir).unwrap();
    let collection = app.world().resource::<Collection>();
    let live = &collection.bundle;
    assert_eq!(live.manifest.layouts, built.manifest.layouts);
    let built_id = |live_id: u32| {
        let hash = &live.manifest.images[live_id as usize].hash;
        built.manifest.images.iter().position(|r| &r.hash == hash).expect("every image is in the bundle")
    };
    for live_id in 0..36u32 {
        let id = built_id(live_id);
        assert_eq!(live.manifest.images[live_id as usize].filename, built.manifest.images[id].filename);
        for (layout, positions) in built.positions.iter().enumerate() {
            assert_eq!(live.positions[layout][live_id as usize], positions[id], "layout {layout}");
        }
        let k = built.manifest.neighbours.as_ref().unwrap().k as usize;
        let similar: Vec<usize> =
            live.neighbours[live_id as usize * k..][..k].iter().map(|&other| built_id(other)).collect();
        let expected: Vec<usize> = built.neighbours[id * k..][..k].iter().map(|&o| o as usize).collect();
        assert_eq!(similar, expected);
    }
    for (shown, expected) in live.manifest.clusters.iter().zip(&built.manifest.clusters) {
        let mut members: Vec<usize> = shown.members.iter().map(|&m| built_id(m)).collect();
        members.sort_unstable();
        assert_eq!(members, expected.members.iter().map(|&m| m as usize).collect::<Vec<_>>());
        assert_eq!(built_id(shown.representative), expected.representative as usize);
    }
    assert_eq!(live.manifest.clusters.len(), built.manifest.clusters.len());
}
