//! The side panels (egui): layouts, search and filters, hotspots, settings, the selected
//! image's details with its most similar images, a help overlay, and the loading and error
//! screens.

use super::camera::{FlyTo, FrameAll};
use super::loading::{Collection, LoadFailure, ViewerAssets};
use super::picking::{close_up, select};
use super::rendering::{Emphasis, LayoutTransition, ShowLayout};
use super::script::shown;
use super::{CollectionSystems, CurationOpen, Locked, Selection, ViewSettings, ViewerState};
use bevy::prelude::*;
use bevy_egui::egui::{self, Color32, RichText};
use bevy_egui::{EguiContext, EguiContexts, EguiPreUpdateSet, EguiPrimaryContextPass, EguiTextureHandle};
use std::collections::HashMap;

pub struct UiPlugin;

impl Plugin for UiPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Filters>()
            .init_resource::<Thumbnails>()
            .add_systems(PreUpdate, use_one_font.before(EguiPreUpdateSet::BeginPass))
            .add_systems(OnEnter(ViewerState::Exploring), build_search_index)
            .add_systems(
                PreUpdate,
                follow_grown_collection
                    .in_set(CollectionSystems::Follow)
                    .run_if(in_state(ViewerState::Exploring)),
            )
            .add_systems(
                Update,
                (keyboard_shortcuts.run_if(not(resource_exists::<Locked>)), apply_filters)
                    .run_if(in_state(ViewerState::Exploring)),
            )
            .add_systems(
                EguiPrimaryContextPass,
                (
                    loading_screen.run_if(in_state(ViewerState::Loading)),
                    error_screen.run_if(in_state(ViewerState::Failed)),
                    panels.run_if(in_state(ViewerState::Exploring)),
                ),
            );
    }
}

/// One typeface for the text, and a fallback for the letters it lacks (Arabic, Hebrew,
/// transliteration marks). egui's default set adds a monospace face and two emoji faces the
/// panels never need: 0.7 MB more for every visitor of the web page to download.
fn use_one_font(mut contexts: Query<&mut EguiContext, Added<EguiContext>>) {
    for mut context in &mut contexts {
        context.get_mut().set_fonts(font_definitions());
    }
}

pub(crate) fn font_definitions() -> egui::FontDefinitions {
    let mut fonts = egui::FontDefinitions::empty();
    let main = egui::FontData::from_static(epaint_default_fonts::UBUNTU_LIGHT);
    // DejaVu's letters are larger and heavier than Ubuntu Light's: brought to the same height.
    let fallback = egui::FontData::from_static(super::script::FALLBACK_FONT)
        .tweak(egui::FontTweak { scale: 0.88, ..Default::default() });
    let faces = ["Ubuntu-Light".to_owned(), "fallback".to_owned()];
    fonts.font_data.insert(faces[0].clone(), std::sync::Arc::new(main));
    fonts.font_data.insert(faces[1].clone(), std::sync::Arc::new(fallback));
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts.families.insert(family, faces.to_vec());
    }
    fonts
}

/// What the search box and filters ask for.
#[derive(Resource, Default, Clone, PartialEq)]
pub struct Filters {
    query: String,
    pub(crate) category: Option<String>,
    /// Years from and to, inclusive; images without a year are left out while it is set.
    years: Option<(i32, i32)>,
}

impl Filters {
    pub fn searching(query: String) -> Filters {
        Filters { query, ..default() }
    }

    fn is_empty(&self) -> bool {
        self.query.trim().is_empty() && self.category.is_none() && self.years.is_none()
    }
}

/// Each image's searchable text, lower-cased: filename, metadata and the network's tags; and
/// what the filters can offer.
#[derive(Resource)]
struct SearchIndex {
    /// The collection it indexes (see [`Collection::generation`]).
    generation: u64,
    text: Vec<String>,
    categories: Vec<String>,
    /// The collection's first and last year, if any image has one.
    years: Option<(i32, i32)>,
}

fn build_search_index(mut commands: Commands, collection: Res<Collection>) {
    let manifest = &collection.bundle.manifest;
    let classes = manifest.embedding.as_ref().map(|e| e.classes.as_slice()).unwrap_or_default();
    let text = manifest
        .images
        .iter()
        .map(|image| {
            let m = &image.metadata;
            let mut words = vec![image.filename.clone()];
            words.extend(m.category.iter().chain(&m.description).chain(&m.label).cloned());
            words.extend(m.tags.iter().cloned());
            words.extend(m.year.map(|y| y.to_string()));
            words.extend(m.extra.values().cloned());
            words.extend(
                image.auto_tags.iter().filter_map(|(class, _)| classes.get(*class as usize).cloned()),
            );
            words.join("\n").to_lowercase()
        })
        .collect();
    let mut categories: Vec<String> =
        manifest.images.iter().filter_map(|i| i.metadata.category.clone()).collect();
    categories.sort();
    categories.dedup();
    let years = manifest.images.iter().filter_map(|i| i.metadata.year).fold(None, |span, y| match span {
        None => Some((y, y)),
        Some((lo, hi)) => Some((y.min(lo), y.max(hi))),
    });
    commands.insert_resource(SearchIndex { generation: collection.generation, text, categories, years });
}

/// A collection that grew (it is being assembled) is searched afresh: new images, new tags.
fn follow_grown_collection(commands: Commands, collection: Res<Collection>, index: Res<SearchIndex>) {
    if index.generation != collection.generation {
        build_search_index(commands, collection);
    }
}

fn apply_filters(
    filters: Res<Filters>,
    index: Res<SearchIndex>,
    collection: Res<Collection>,
    mut emphasis: ResMut<Emphasis>,
) {
    if !(filters.is_changed() || index.is_changed()) {
        return;
    }
    if filters.is_empty() {
        if emphasis.0.is_some() {
            emphasis.0 = None;
        }
        return;
    }
    let query = filters.query.trim().to_lowercase();
    let images = &collection.bundle.manifest.images;
    let keep = index
        .text
        .iter()
        .zip(images)
        .map(|(text, image)| {
            let m = &image.metadata;
            text.contains(&query)
                && filters.category.as_ref().is_none_or(|c| m.category.as_ref() == Some(c))
                && filters.years.is_none_or(|(from, to)| m.year.is_some_and(|y| (from..=to).contains(&y)))
        })
        .collect();
    emphasis.0 = Some(keep);
}

/// Close-up thumbnails shown in the panels, loaded on first use.
#[derive(Resource, Default)]
pub struct Thumbnails(HashMap<u32, (Handle<Image>, egui::TextureId)>);

impl Thumbnails {
    /// Whether every thumbnail asked for has arrived (or failed).
    pub fn loaded(&self, assets: &AssetServer) -> bool {
        self.0.values().all(|(handle, _)| assets.is_loaded(handle) || assets.load_state(handle).is_failed())
    }

    /// How many thumbnails are held.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Let every thumbnail go (a kiosk's reset: the next visitor starts afresh).
    pub(crate) fn release(&mut self, egui: &mut EguiContexts) {
        for (_, (handle, _)) in self.0.drain() {
            egui.remove_image(&handle);
        }
    }

    /// The thumbnail's texture once it has arrived (its loading starts on the first call).
    pub(crate) fn get(
        &mut self,
        image: u32,
        collection: &Collection,
        assets: &AssetServer,
        egui: &mut EguiContexts,
    ) -> Option<egui::TextureId> {
        // A panel shows a few dozen at most; forget them all rather than grow without bound.
        if self.0.len() > 256 {
            self.release(egui);
        }
        let (handle, texture) = self.0.entry(image).or_insert_with(|| {
            let thumb = &collection.bundle.manifest.images[image as usize].thumb;
            let handle: Handle<Image> = assets.load(format!("{}://{thumb}", super::loading::BUNDLE_SOURCE));
            let texture = egui.add_image(EguiTextureHandle::Strong(handle.clone()));
            (handle, texture)
        });
        assets.is_loaded(&*handle).then_some(*texture)
    }
}

/// Where to write each hotspot's name in one layout: at its members' centre, but only where
/// they are gathered (in a layout that scatters them, such as the grid by filename, a name at the
/// centre would point at unrelated images).
#[derive(Default)]
struct HotspotLabels {
    /// The layout, in which collection.
    layout: Option<(usize, u64)>,
    centres: Vec<Option<Vec3>>,
}

impl HotspotLabels {
    fn for_layout(collection: &Collection, layout: usize) -> HotspotLabels {
        let places = &collection.places[layout];
        let centre_of = |ids: &mut dyn Iterator<Item = usize>| {
            let (sum, count) = ids.fold((Vec3::ZERO, 0usize), |(s, c), i| (s + places[i], c + 1));
            sum / count.max(1) as f32
        };
        let spread_of = |ids: &mut dyn Iterator<Item = usize>, centre: Vec3| {
            let (sum, count) = ids.fold((0.0, 0usize), |(s, c), i| (s + places[i].distance(centre), c + 1));
            sum / count.max(1) as f32
        };
        let all = centre_of(&mut (0..places.len()));
        let spread_all = spread_of(&mut (0..places.len()), all);
        let centres = collection
            .bundle
            .manifest
            .clusters
            .iter()
            .map(|cluster| {
                let members = || cluster.members.iter().map(|&m| m as usize);
                let centre = centre_of(&mut members());
                (spread_of(&mut members(), centre) < 0.4 * spread_all).then_some(centre)
            })
            .collect();
        HotspotLabels { layout: Some((layout, collection.generation)), centres }
    }
}

/// A `Ui` covering the window, for panels to dock inside.
fn window_ui(ctx: &egui::Context) -> egui::Ui {
    let builder = egui::UiBuilder::new().layer_id(egui::LayerId::background()).max_rect(ctx.viewport_rect());
    egui::Ui::new(ctx.clone(), "window".into(), builder)
}

fn loading_screen(mut egui: EguiContexts) -> Result {
    egui::CentralPanel::default().show_inside(&mut window_ui(egui.ctx_mut()?), |ui| {
        ui.centered_and_justified(|ui| ui.heading("Opening the collection…"));
    });
    Ok(())
}

fn error_screen(mut egui: EguiContexts, failure: Option<Res<LoadFailure>>) -> Result {
    let message = failure.map_or_else(|| "unknown error".to_string(), |f| f.0.clone());
    egui::CentralPanel::default().show_inside(&mut window_ui(egui.ctx_mut()?), |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() / 3.0);
            ui.heading(RichText::new("This bundle cannot be shown").color(Color32::from_rgb(255, 140, 120)));
            ui.add_space(12.0);
            ui.label(message);
            ui.add_space(12.0);
            ui.label("Check the path, or rebuild the bundle with `pixfly build`; `pixfly info BUNDLE` tells what is wrong with it.");
        });
    });
    Ok(())
}

fn keyboard_shortcuts(
    keys: Res<ButtonInput<KeyCode>>,
    mut egui: EguiContexts,
    collection: Res<Collection>,
    transition: Res<LayoutTransition>,
    mut settings: ResMut<ViewSettings>,
    mut selection: ResMut<Selection>,
    mut show: MessageWriter<ShowLayout>,
    mut frame: MessageWriter<FrameAll>,
    mut fly: MessageWriter<FlyTo>,
) {
    if egui.ctx_mut().is_ok_and(|ctx| ctx.egui_wants_keyboard_input()) {
        return;
    }
    let digits = [
        KeyCode::Digit1,
        KeyCode::Digit2,
        KeyCode::Digit3,
        KeyCode::Digit4,
        KeyCode::Digit5,
        KeyCode::Digit6,
        KeyCode::Digit7,
        KeyCode::Digit8,
        KeyCode::Digit9,
    ];
    for (layout, key) in digits.iter().enumerate().take(collection.places.len()) {
        if keys.just_pressed(*key) {
            show.write(ShowLayout(layout));
        }
    }
    if keys.just_pressed(KeyCode::KeyH) || keys.just_pressed(KeyCode::F1) {
        settings.show_help = !settings.show_help;
    }
    if keys.just_pressed(KeyCode::Tab) {
        settings.show_ui = !settings.show_ui;
    }
    if keys.just_pressed(KeyCode::KeyR) || keys.just_pressed(KeyCode::Home) {
        frame.write(FrameAll);
    }
    if keys.just_pressed(KeyCode::Escape) {
        selection.selected = None;
    }
    if keys.just_pressed(KeyCode::KeyF)
        && let Some(image) = selection.selected
    {
        fly.write(close_up(&transition, image, settings.image_size));
    }
    if keys.just_pressed(KeyCode::Equal) {
        settings.image_size = (settings.image_size * 1.25).min(8.0);
    }
    if keys.just_pressed(KeyCode::Minus) {
        settings.image_size = (settings.image_size / 1.25).max(0.2);
    }
}

const SHORTCUTS: &[(&str, &str)] = &[
    ("drag", "pan (flat layouts) or orbit (3D)"),
    ("right drag", "orbit (flat) or pan (3D)"),
    ("wheel", "zoom"),
    ("W A S D, arrows", "fly across"),
    ("Q / E", "fly out / in"),
    ("G", "fly mode: drag looks around, W / S fly forward / back, Q / E down / up"),
    ("click", "open an image (far ones are brought close)"),
    ("F", "fly to the open image"),
    ("Esc", "close the image"),
    ("1 … 9", "switch layout"),
    ("R, Home", "see the whole collection"),
    ("+ / -", "larger / smaller images"),
    ("Tab", "hide or show the panels"),
    ("H, F1", "this help"),
];

fn panels(
    mut egui: EguiContexts,
    collection: Res<Collection>,
    index: Res<SearchIndex>,
    assets: ViewerAssets,
    transition: Res<LayoutTransition>,
    emphasis: Res<Emphasis>,
    time: Res<Time>,
    mut shown_settings: ResMut<ViewSettings>,
    mut selection: ResMut<Selection>,
    mut shown_filters: ResMut<Filters>,
    mut thumbnails: ResMut<Thumbnails>,
    mut show: MessageWriter<ShowLayout>,
    mut fly: MessageWriter<FlyTo>,
    mut frame: MessageWriter<FrameAll>,
    (mut fps, mut labels): (Local<f32>, Local<HotspotLabels>),
    (camera, mut curation): (Single<(&Camera, &GlobalTransform)>, ResMut<CurationOpen>),
) -> Result {
    let dt = time.delta_secs().max(1e-6);
    *fps = if *fps == 0.0 { 1.0 / dt } else { *fps * 0.95 + 0.05 / dt };
    if !shown_settings.show_ui {
        return Ok(());
    }
    // Widgets edit copies, stored back only when they differ, so that a frame in which nothing
    // was touched does not look like a change to the systems that react to one.
    let mut settings = shown_settings.clone();
    let mut filters = shown_filters.clone();
    let ctx = egui.ctx_mut()?.clone();
    let manifest = &collection.bundle.manifest;
    let mut viewport_ui = window_ui(&ctx);

    let width = ViewSettings::LEFT_PANEL_WIDTH;
    egui::Panel::left("collection").resizable(true).default_size(width).show_inside(&mut viewport_ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.heading("pixfly");
            ui.label(format!("{} images", manifest.image_count));
            let total = collection.atlases.len();
            match assets.atlases_loaded(&collection) {
                Ok(loaded) if loaded < total => {
                    ui.add(
                        egui::ProgressBar::new(loaded as f32 / total as f32)
                            .text(format!("loading images: {loaded} of {total} atlases")),
                    );
                }
                Ok(_) => {}
                Err(message) => {
                    ui.colored_label(Color32::from_rgb(255, 140, 120), message);
                }
            }
            ui.separator();

            ui.label(RichText::new("Layout").strong());
            for (i, layout) in manifest.layouts.iter().enumerate() {
                if ui.radio(transition.layout == i, format!("{}  ({})", layout.title, i + 1)).clicked() {
                    show.write(ShowLayout(i));
                }
            }
            ui.separator();

            ui.label(RichText::new("Search").strong());
            let search =
                ui.add(egui::TextEdit::singleline(&mut filters.query).hint_text("filename, tag, category…"));
            if !index.categories.is_empty() {
                let chosen = filters.category.as_deref().map_or("all categories".into(), shown);
                egui::ComboBox::from_id_salt("category").selected_text(chosen).show_ui(ui, |ui| {
                    ui.selectable_value(&mut filters.category, None, "all categories");
                    for c in &index.categories {
                        ui.selectable_value(&mut filters.category, Some(c.clone()), shown(c));
                    }
                });
            }
            if let Some((first, last)) = index.years {
                ui.horizontal(|ui| {
                    let mut on = filters.years.is_some();
                    ui.checkbox(&mut on, "years");
                    let (mut from, mut to) = filters.years.unwrap_or((first, last));
                    ui.add_enabled(on, egui::DragValue::new(&mut from).range(first..=last));
                    ui.label("to");
                    ui.add_enabled(on, egui::DragValue::new(&mut to).range(from..=last));
                    filters.years = on.then_some((from, to.max(from)));
                });
            }
            if let Some(keep) = &emphasis.0 {
                let found: Vec<usize> =
                    keep.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i).collect();
                ui.horizontal(|ui| {
                    ui.label(format!("{} found", found.len()));
                    let enter = search.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    if (ui.button("show them").clicked() || enter) && !found.is_empty() {
                        fly.write(fly_to_group(&collection, &transition, &found, settings.image_size));
                    }
                    if ui.button("clear").clicked() {
                        filters = Filters::default();
                    }
                });
            }

            if !manifest.clusters.is_empty() {
                ui.separator();
                ui.label(RichText::new("Hotspots").strong());
                for cluster in &manifest.clusters {
                    ui.horizontal(|ui| {
                        let cover = thumbnails.get(cluster.representative, &collection, &assets, &mut egui);
                        let clicked = match cover {
                            Some(texture) => ui
                                .add(egui::Button::image(egui::load::SizedTexture::new(
                                    texture,
                                    [40.0, 40.0],
                                )))
                                .clicked(),
                            None => ui.add_sized([40.0, 40.0], egui::Spinner::new()).clicked(),
                        };
                        let label = format!("{} ({})", shown(&cluster.name), cluster.members.len());
                        if clicked || ui.link(label).clicked() {
                            fly.write(fly_to_hotspot(&collection, &transition, cluster, settings.image_size));
                        }
                    });
                }
            }

            ui.separator();
            egui::CollapsingHeader::new("Settings").show(ui, |ui| {
                ui.add(
                    egui::Slider::new(&mut settings.image_size, 0.2..=8.0)
                        .logarithmic(true)
                        .text("image size"),
                );
                let mut rgb = settings.background.to_srgba().to_u8_array_no_alpha();
                ui.horizontal(|ui| {
                    ui.label("background");
                    if ui.color_edit_button_srgb(&mut rgb).changed() {
                        settings.background = Color::srgb_u8(rgb[0], rgb[1], rgb[2]);
                    }
                });
                ui.checkbox(&mut settings.show_fps, "frames per second");
                ui.checkbox(&mut settings.show_labels, "hotspot names in the view");
            });
            ui.horizontal(|ui| {
                if ui.button("whole collection").clicked() {
                    frame.write(FrameAll);
                }
                if ui.button("help").clicked() {
                    settings.show_help = !settings.show_help;
                }
            });
            if let Some(open) = &mut curation.0
                && ui.button("kiosk tour and hotspot names…").clicked()
            {
                *open = !*open;
            }
        });
    });

    if let Some(image) = selection.selected {
        egui::Panel::right("detail").resizable(true).default_size(300.0).show_inside(
            &mut viewport_ui,
            |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    detail(
                        ui,
                        image,
                        &collection,
                        &assets,
                        &mut egui,
                        &mut thumbnails,
                        &mut selection,
                        &mut fly,
                        &transition,
                        &settings,
                    );
                });
            },
        );
    }

    // Hotspot names over the scene, in what the panels leave free, once the images have arrived.
    if settings.show_labels && transition.progress >= 1.0 {
        if labels.layout != Some((transition.layout, collection.generation)) {
            *labels = HotspotLabels::for_layout(&collection, transition.layout);
        }
        let free = viewport_ui.available_rect_before_wrap().shrink(60.0);
        let (camera, at) = *camera;
        // Largest hotspots first; a name that would overlap one already written waits until
        // zooming in separates them (sizes are those egui measured in earlier frames).
        let mut taken: Vec<egui::Rect> = Vec::new();
        for (cluster, centre) in manifest.clusters.iter().zip(&labels.centres) {
            let Some(pos) = centre.and_then(|c| camera.world_to_viewport(at, c).ok()) else { continue };
            let pos = egui::pos2(pos.x, pos.y);
            if !free.contains(pos) {
                continue;
            }
            let id = egui::Id::new(("hotspot", cluster.representative));
            if let Some(size) = ctx.memory(|m| m.area_rect(id)).map(|r| r.size()) {
                let rect = egui::Rect::from_center_size(pos, size);
                if taken.iter().any(|t| t.intersects(rect)) {
                    continue;
                }
                taken.push(rect);
            }
            let label = egui::Button::new(RichText::new(shown(&cluster.name)).color(Color32::WHITE))
                .fill(Color32::from_black_alpha(160));
            let area = egui::Area::new(id)
                .fixed_pos(pos)
                .pivot(egui::Align2::CENTER_CENTER)
                .order(egui::Order::Middle);
            if area.show(&ctx, |ui| ui.add(label).clicked()).inner {
                fly.write(fly_to_hotspot(&collection, &transition, cluster, settings.image_size));
            }
        }
    }

    if settings.show_help {
        egui::Window::new("Keys and mouse").collapsible(false).resizable(false).show(&ctx, |ui| {
            egui::Grid::new("keys").striped(true).show(ui, |ui| {
                for (key, what) in SHORTCUTS {
                    ui.label(RichText::new(*key).strong());
                    ui.label(*what);
                    ui.end_row();
                }
            });
        });
    }
    if settings.show_fps {
        egui::Area::new("fps".into()).anchor(egui::Align2::RIGHT_TOP, [-12.0, 12.0]).show(&ctx, |ui| {
            ui.label(RichText::new(format!("{:.0} fps", *fps)).monospace().color(Color32::LIGHT_GREEN));
        });
    }
    shown_settings.set_if_neq(settings);
    shown_filters.set_if_neq(filters);
    Ok(())
}

/// The open image: large thumbnail, what is known of it, and its most similar images.
fn detail(
    ui: &mut egui::Ui,
    image: u32,
    collection: &Collection,
    assets: &AssetServer,
    egui: &mut EguiContexts,
    thumbnails: &mut Thumbnails,
    selection: &mut Selection,
    fly: &mut MessageWriter<FlyTo>,
    transition: &LayoutTransition,
    settings: &ViewSettings,
) {
    let manifest = &collection.bundle.manifest;
    let record = &manifest.images[image as usize];
    ui.horizontal(|ui| {
        if ui.button("close").clicked() {
            selection.selected = None;
        }
        if ui.button("fly to it").clicked() {
            fly.write(close_up(transition, image, settings.image_size));
        }
    });
    let width = ui.available_width();
    let aspect = record.height as f32 / record.width.max(1) as f32;
    let size = egui::vec2(width, (width * aspect).min(width * 1.5));
    match thumbnails.get(image, collection, assets, egui) {
        Some(texture) => ui.image(egui::load::SizedTexture::new(texture, size)),
        None => ui.add_sized(size, egui::Spinner::new()),
    };
    ui.label(RichText::new(shown(&record.filename)).strong());
    ui.label(format!("{} × {} px", record.width, record.height));
    let m = &record.metadata;
    let fields = [
        ("category", m.category.clone()),
        ("year", m.year.map(|y| y.to_string())),
        ("label", m.label.clone()),
        ("description", m.description.clone()),
        ("tags", (!m.tags.is_empty()).then(|| m.tags.join(", "))),
        ("place", m.lat.zip(m.lng).map(|(lat, lng)| format!("{lat:.4}, {lng:.4}"))),
    ];
    egui::Grid::new("metadata").num_columns(2).show(ui, |ui| {
        for (name, value) in fields.iter().filter_map(|(n, v)| v.as_ref().map(|v| (*n, v))) {
            ui.label(name);
            ui.label(shown(value));
            ui.end_row();
        }
        for (name, value) in &m.extra {
            ui.label(shown(name));
            ui.label(shown(value));
            ui.end_row();
        }
    });
    if let Some(link) = &m.permalink {
        ui.hyperlink_to("permalink", link);
    }
    if let Some(embedding) = &manifest.embedding
        && !record.auto_tags.is_empty()
    {
        ui.label(RichText::new("The network sees").strong());
        for (class, probability) in &record.auto_tags {
            if let Some(name) = embedding.classes.get(*class as usize) {
                ui.label(format!("{name}  {:.0}%", probability * 100.0));
            }
        }
    }
    let similar = collection.bundle.similar(image);
    if !similar.is_empty() {
        ui.separator();
        ui.label(RichText::new("Most similar").strong());
        ui.horizontal_wrapped(|ui| {
            for &other in similar {
                let response = match thumbnails.get(other, collection, assets, egui) {
                    Some(texture) => {
                        ui.add(egui::Button::image(egui::load::SizedTexture::new(texture, [64.0, 64.0])))
                    }
                    None => ui.add_sized([64.0, 64.0], egui::Spinner::new()),
                };
                if response.on_hover_text(shown(&manifest.images[other as usize].filename)).clicked() {
                    select(selection, other, collection);
                    fly.write(close_up(transition, other, settings.image_size));
                }
            }
        });
    }
}

/// A view that takes in all of `images` (where they are headed, in the current layout).
/// Where to fly to see a hotspot's members (from the panel's list or its name in the view).
pub(crate) fn fly_to_hotspot(
    collection: &Collection,
    transition: &LayoutTransition,
    cluster: &pixfly_core::bundle::Cluster,
    image_size: f32,
) -> FlyTo {
    let members: Vec<usize> = cluster.members.iter().map(|&m| m as usize).collect();
    fly_to_group(collection, transition, &members, image_size)
}

pub(crate) fn fly_to_group(
    collection: &Collection,
    transition: &LayoutTransition,
    images: &[usize],
    image_size: f32,
) -> FlyTo {
    let places = &collection.places[transition.layout];
    let (min, max) =
        images.iter().fold((Vec3::MAX, Vec3::MIN), |(lo, hi), &i| (lo.min(places[i]), hi.max(places[i])));
    let extent = (max - min).max_element().max(image_size * 3.0);
    FlyTo { focus: (min + max) / 2.0, distance: extent * 1.3 }
}
