use super::*;

/// A bundle's manifest with three images, two hotspots and two layouts (for the names' tests too).
pub(crate) fn manifest() -> Manifest {
    let image = |id: u32, name: &str| {
        serde_json::json!({"id": id, "filename": name, "thumb": format!("thumbs/{id}.jpg"), "width": 10,
            "height": 10, "atlas": 0, "rect": [0, 0, 10, 10], "hash": "00"})
    };
    serde_json::from_value(serde_json::json!({
        "format": "pixfly-bundle", "version": 1, "generator": "test", "image_count": 3, "cell_size": 64,
        "thumb_size": 256, "atlases": [{"path": "atlas-0.jpg", "width": 64, "height": 64}],
        "layouts": [{"name": "umap2d", "title": "UMAP", "dims": 2, "path": "layouts/umap2d.f32"},
                    {"name": "grid", "title": "Grid", "dims": 2, "path": "layouts/grid.f32"}],
        "images": [image(0, "m31.jpg"), image(1, "m42.jpg"), image(2, "m45.jpg")],
        "clusters": [{"name": "galaxies", "representative": 0, "members": [0]},
                     {"name": "nebulae", "representative": 1, "members": [1, 2]}],
    }))
    .unwrap()
}

fn parse(json: serde_json::Value) -> Result<Tour, TourError> {
    Tour::parse(&serde_json::to_vec(&json).unwrap(), &manifest())
}

#[test]
fn a_tour_names_its_stops_by_hotspot_image_or_camera() {
    let tour = parse(serde_json::json!({
        "version": 1, "languages": ["en", "fr"], "layout": "grid", "linger_seconds": 8,
        "stops": [
            {"hotspot": "nebulae", "title": {"en": "Nebulae", "fr": "Nébuleuses"}, "credit": "ESO"},
            {"image": "m45.jpg", "linger_seconds": 20},
            {"image": 0},
            {"camera": {"focus": [0.1, -0.2, 0.0], "distance": 0.5}, "text": "All of them"},
        ]
    }))
    .unwrap();
    assert_eq!((tour.layout, tour.languages.len()), (1, 2));
    let targets: Vec<_> = tour.stops.iter().map(|s| s.target).collect();
    assert_eq!(targets[..3], [Target::Hotspot(1), Target::Image(2), Target::Image(0)]);
    assert!(matches!(targets[3], Target::Camera(pose) if pose.distance == 0.5 && pose.yaw == 0.0));
    assert_eq!(tour.stops.iter().map(|s| s.linger_seconds).collect::<Vec<_>>(), [8.0, 20.0, 8.0, 8.0]);
    let title = tour.stops[0].caption.title.as_ref().unwrap();
    assert_eq!((title.get("fr", "en"), title.get("de", "en")), ("Nébuleuses", "Nebulae"));
    assert_eq!(tour.stops[0].caption.credit.as_ref().unwrap().get("fr", "en"), "ESO");
}

#[test]
fn mistakes_are_reported_with_their_stop_and_field() {
    let error = |stops: serde_json::Value| {
        parse(serde_json::json!({"version": 1, "stops": stops})).unwrap_err().to_string()
    };
    let ok = serde_json::json!({"hotspot": 0});
    let cases = [
        (
            serde_json::json!([ok, {"hotspot": "spirals"}]),
            "stop 2: field `hotspot`: the bundle has no hotspot \"spirals\" (it has: \"galaxies\", \"nebulae\")",
        ),
        (serde_json::json!([{"image": 7}]), "stop 1: field `image`: there is no image 7"),
        (
            serde_json::json!([ok, ok, {"image": "m1.jpg"}]),
            "stop 3: field `image`: the bundle has no image named \"m1.jpg\"",
        ),
        (serde_json::json!([{"hotspot": 0, "image": 1}]), "stop 1: give exactly one of"),
        (serde_json::json!([ok, {"titel": "x", "hotspot": 0}]), "stop 2: unknown field `titel`"),
        (serde_json::json!([{"camera": {"focus": [0, 0, 0], "distance": -1}}]), "stop 1: field `camera`"),
        (
            serde_json::json!([{"hotspot": 1, "linger_seconds": 0.5}]),
            "stop 1: field `linger_seconds`: 0.5 seconds",
        ),
        (
            serde_json::json!([{"hotspot": 1, "title": {"en": "x"}}]),
            "stop 1: field `title`: texts in several languages need",
        ),
        (serde_json::json!([]), "field `stops`: a tour needs at least one stop"),
    ];
    for (stops, expected) in cases {
        let message = error(stops.clone());
        assert!(message.starts_with(expected), "{stops}: {message}");
    }
    let wrong_language = serde_json::json!({"version": 1, "languages": ["en"], "stops": [ok, {"hotspot": 0, "text": {"de": "x"}}]});
    assert!(
        parse(wrong_language)
            .unwrap_err()
            .to_string()
            .starts_with("stop 2: field `text`: language \"de\" is not in")
    );
    let wrong_layout = parse(serde_json::json!({"version": 1, "layout": "tsne", "stops": [ok]})).unwrap_err();
    assert_eq!(
        wrong_layout.to_string(),
        "field `layout`: the bundle has no layout \"tsne\" (it has: umap2d, grid)"
    );
    let version = parse(serde_json::json!({"version": 2, "stops": [ok]})).unwrap_err().to_string();
    assert!(version.starts_with("field `version`: 2 is not"), "{version}");
    assert!(
        Tour::parse(b"{\"version\": 1, ", &manifest())
            .unwrap_err()
            .to_string()
            .starts_with("not a tour file")
    );
}

#[test]
fn without_a_tour_file_the_largest_hotspots_are_visited() {
    let tour = Tour::from_hotspots(&manifest());
    let targets: Vec<_> = tour.stops.iter().map(|s| s.target).collect();
    assert_eq!(targets, [Target::Hotspot(1), Target::Hotspot(0)]);
    let mut bare = manifest();
    bare.clusters.clear();
    assert_eq!(Tour::from_hotspots(&bare).stops.len(), 3);
}

#[test]
fn a_tour_written_out_reads_back_the_same() {
    let file = TourFile {
        version: TOUR_VERSION,
        languages: vec![],
        layout: None,
        linger_seconds: 10.0,
        stops: vec![StopFile {
            hotspot: Some(Reference::Name("nebulae".into())),
            title: Some(Text::Same("N".into())),
            ..Default::default()
        }],
    };
    let json = serde_json::to_vec_pretty(&file).unwrap();
    assert_eq!(Tour::parse(&json, &manifest()).unwrap(), Tour::check(&file, &manifest()).unwrap());
}
