//! Curating a bundle in the ordinary viewer, for the kiosk and the web: a tour made by flying
//! there and pressing "add this view" (or adding the open image or a hotspot), its captions
//! written, its stops reordered, saved as the bundle's `tour.json`; and hotspots renamed, saved
//! as its `names.json`. Nobody writes JSON by hand. (The desktop viewer only: it writes files.)

use super::Selection;
use super::camera::FlyTo;
use super::loading::Collection;
use super::rendering::LayoutTransition;
use super::script;
use super::ui::fly_to_hotspot;
use super::{CurationOpen, ViewSettings, ViewerState};
use bevy::prelude::*;
use bevy_egui::egui::{self, Color32, RichText};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};
use bevy_panorbit_camera::PanOrbitCamera;
use pixfly_core::bundle::write::write_atomic;
use pixfly_core::names::{NAMES_FILE, file_for};
use pixfly_core::tour::{CameraPose, Reference, StopFile, TOUR_FILE, Text, Tour, TourFile};
use std::path::PathBuf;

pub struct CurationPlugin {
    /// The bundle's folder, where the tour and the names are saved.
    pub folder: PathBuf,
}

impl Plugin for CurationPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Curation { folder: self.folder.clone(), ..default() })
            .insert_resource(CurationOpen(Some(false)))
            .add_systems(OnEnter(ViewerState::Exploring), read_tour_and_names)
            .add_systems(EguiPrimaryContextPass, curation_window.run_if(in_state(ViewerState::Exploring)));
    }
}

/// The tour and names being edited.
#[derive(Resource, Default)]
pub struct Curation {
    folder: PathBuf,
    tour: TourFile,
    /// The tour's languages as typed ("en, fr").
    languages: String,
    /// Which of them the caption fields edit.
    language: usize,
    /// Hotspot names as the build gave them, and as edited.
    built_names: Vec<String>,
    names: Vec<String>,
    /// The last save's outcome.
    status: Option<Result<String, String>>,
}

fn read_tour_and_names(mut curation: ResMut<Curation>, collection: Res<Collection>) {
    let manifest = &collection.bundle.manifest;
    curation.tour = std::fs::read(curation.folder.join(TOUR_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    curation.languages = curation.tour.languages.join(", ");
    curation.names = manifest.clusters.iter().map(|c| c.name.clone()).collect();
    // The names as built: the manifest's own, before names.json renamed them.
    // Only the manifest: the layouts and neighbours the whole bundle holds are not needed here.
    let built = std::fs::read(curation.folder.join(pixfly_core::bundle::MANIFEST_FILE))
        .ok()
        .and_then(|bytes| pixfly_core::bundle::parse_manifest(&bytes).ok())
        .map(|m| m.clusters)
        .unwrap_or_default();
    let mut built: Vec<String> = built.into_iter().map(|c| c.name).collect();
    built.resize(manifest.clusters.len(), String::new());
    curation.built_names = built;
}

/// The caption field for `language` (`None`: the tour has one language), made ready to edit.
fn text_mut<'a>(slot: &'a mut Option<Text>, language: Option<&str>, first: Option<&str>) -> &'a mut String {
    let current = slot.take();
    let text = match (language, current) {
        (None, Some(Text::Translated(texts))) => Text::Same(texts.into_values().next().unwrap_or_default()),
        (None, other) => other.unwrap_or(Text::Same(String::new())),
        (Some(_), Some(Text::Same(same))) => {
            let mut texts = std::collections::BTreeMap::new();
            if !same.is_empty() {
                texts.insert(first.unwrap_or_default().to_string(), same);
            }
            Text::Translated(texts)
        }
        (Some(_), other) => other.unwrap_or_else(|| Text::Translated(Default::default())),
    };
    match slot.insert(text) {
        Text::Same(text) => text,
        Text::Translated(texts) => texts.entry(language.unwrap_or_default().to_string()).or_default(),
    }
}

/// Empty caption fields are left out of the file.
fn tidy(slot: &mut Option<Text>) {
    match slot {
        Some(Text::Same(text)) if text.trim().is_empty() => *slot = None,
        Some(Text::Translated(texts)) => {
            texts.retain(|_, t| !t.trim().is_empty());
            if texts.is_empty() {
                *slot = None;
            }
        }
        _ => {}
    }
}

fn describe(stop: &StopFile, collection: &Collection) -> String {
    let manifest = &collection.bundle.manifest;
    match (&stop.hotspot, &stop.image, &stop.camera) {
        (Some(Reference::Name(name)), _, _) => format!("hotspot “{name}”"),
        (Some(Reference::Number(n)), _, _) => manifest
            .clusters
            .get(*n as usize)
            .map_or(format!("hotspot {n}"), |c| format!("hotspot “{}”", c.name)),
        (_, Some(Reference::Name(name)), _) => format!("image {name}"),
        (_, Some(Reference::Number(id)), _) => format!("image {id}"),
        _ => "a view".to_string(),
    }
}

fn curation_window(
    mut egui: EguiContexts,
    mut curation: ResMut<Curation>,
    mut window_open: ResMut<CurationOpen>,
    mut shown: ResMut<Collection>,
    transition: Res<LayoutTransition>,
    selection: Res<Selection>,
    settings: Res<ViewSettings>,
    camera: Single<&PanOrbitCamera>,
    mut fly: MessageWriter<FlyTo>,
) -> Result {
    if window_open.0 != Some(true) {
        return Ok(());
    }
    let ctx = egui.ctx_mut()?.clone();
    let collection: &Collection = &shown;
    let manifest = &collection.bundle.manifest;
    let layout = &manifest.layouts[transition.layout];
    let mut open = true;
    let curation = &mut *curation;
    let mut renamed = false;
    egui::Window::new("Kiosk tour and hotspot names").open(&mut open).default_width(380.0).vscroll(true).show(&ctx, |ui| {
        ui.label("The kiosk's attract tour glides from stop to stop. Fly to a view and add it, or add the open image or a hotspot; write each stop's caption.");
        ui.horizontal(|ui| {
            ui.label("languages");
            if ui.add(egui::TextEdit::singleline(&mut curation.languages).hint_text("e.g. en, fr").desired_width(140.0)).changed() {
                curation.tour.languages =
                    curation.languages.split(',').map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
                curation.language = curation.language.min(curation.tour.languages.len().saturating_sub(1));
            }
        });
        let languages = curation.tour.languages.clone();
        if languages.len() > 1 {
            ui.horizontal(|ui| {
                ui.label("captions in");
                for (i, language) in languages.iter().enumerate() {
                    ui.selectable_value(&mut curation.language, i, language);
                }
            });
        }
        let tour_layout = curation.tour.layout.clone().unwrap_or_else(|| manifest.layouts[0].name.clone());
        if tour_layout != layout.name {
            ui.colored_label(Color32::from_rgb(255, 200, 120), format!("The tour is seen in the {tour_layout} layout; views added now are of {}.", layout.name));
        }
        ui.horizontal_wrapped(|ui| {
            if ui.button("add this view").clicked() {
                let scale = collection.scales[transition.layout];
                let pose = CameraPose {
                    focus: (camera.target_focus / scale).to_array(),
                    distance: camera.target_radius / scale,
                    yaw: camera.target_yaw,
                    pitch: camera.target_pitch.clamp(-1.5, 1.5),
                };
                curation.tour.layout = Some(layout.name.clone());
                curation.tour.stops.push(StopFile { camera: Some(pose), ..default() });
            }
            if let Some(image) = selection.selected
                && ui.button("add the open image").clicked()
            {
                let filename = manifest.images[image as usize].filename.clone();
                curation.tour.stops.push(StopFile { image: Some(Reference::Name(filename)), ..default() });
            }
            if !manifest.clusters.is_empty() {
                egui::ComboBox::from_id_salt("add-hotspot").selected_text("add a hotspot").show_ui(ui, |ui| {
                    for cluster in &manifest.clusters {
                        if ui.selectable_label(false, format!("{} ({})", script::shown(&cluster.name), cluster.members.len())).clicked() {
                            let stop = StopFile { hotspot: Some(Reference::Name(cluster.name.clone())), ..default() };
                            curation.tour.stops.push(stop);
                        }
                    }
                });
            }
        });
        ui.separator();
        let language = languages.get(curation.language).map(String::as_str);
        let first = languages.first().map(String::as_str);
        let mut swap = None;
        let mut remove = None;
        let count = curation.tour.stops.len();
        for (i, stop) in curation.tour.stops.iter_mut().enumerate() {
            ui.push_id(i, |ui| {
                ui.horizontal(|ui| {
                    ui.label(RichText::new(format!("{}. {}", i + 1, script::shown(&describe(stop, collection)))).strong());
                    if ui.small_button("go").clicked() {
                        if let Some(Reference::Name(name)) = &stop.hotspot
                            && let Some(cluster) = manifest.clusters.iter().find(|c| &c.name == name)
                        {
                            fly.write(fly_to_hotspot(collection, &transition, cluster, settings.image_size));
                        } else if let Some(pose) = stop.camera {
                            let scale = collection.scales[transition.layout];
                            fly.write(FlyTo { focus: Vec3::from_array(pose.focus) * scale, distance: pose.distance * scale });
                        } else if let Some(Reference::Name(name)) = &stop.image
                            && let Some(id) = manifest.images.iter().position(|r| &r.filename == name)
                        {
                            fly.write(super::picking::close_up(&transition, id as u32, settings.image_size));
                        }
                    }
                    if i > 0 && ui.small_button("up").clicked() {
                        swap = Some(i - 1);
                    }
                    if i + 1 < count && ui.small_button("down").clicked() {
                        swap = Some(i);
                    }
                    if ui.small_button("remove").clicked() {
                        remove = Some(i);
                    }
                });
                for (name, slot) in [("title", &mut stop.title), ("text", &mut stop.text), ("credit", &mut stop.credit)] {
                    let field = text_mut(slot, language, first);
                    ui.add(egui::TextEdit::multiline(field).hint_text(name).desired_rows(if name == "text" { 2 } else { 1 }).desired_width(f32::INFINITY));
                }
                let mut linger = stop.linger_seconds.unwrap_or(curation.tour.linger_seconds);
                if ui.add(egui::Slider::new(&mut linger, 2.0..=120.0).text("seconds here")).changed() {
                    stop.linger_seconds = Some(linger);
                }
                ui.separator();
            });
        }
        if let Some(i) = swap {
            curation.tour.stops.swap(i, i + 1);
        }
        if let Some(i) = remove {
            curation.tour.stops.remove(i);
        }
        if ui.button(RichText::new("save the tour").strong()).clicked() {
            let mut file = curation.tour.clone();
            for stop in &mut file.stops {
                for slot in [&mut stop.title, &mut stop.text, &mut stop.credit] {
                    tidy(slot);
                }
            }
            let path = curation.folder.join(TOUR_FILE);
            curation.status = Some(
                Tour::check(&file, manifest)
                    .map_err(|e| e.to_string())
                    .and_then(|_| serde_json::to_vec_pretty(&file).map_err(|e| e.to_string()))
                    .and_then(|bytes| write_atomic(&path, &bytes).map_err(|e| e.to_string()))
                    .map(|()| format!("saved {} stops to {}", file.stops.len(), path.display())),
            );
        }

        if !manifest.clusters.is_empty() {
            ui.separator();
            ui.label(RichText::new("Hotspot names").strong());
            ui.label("Used by the viewer and the kiosk; the tour's stops follow the new names (save the tour too).");
            for (i, name) in curation.names.iter_mut().enumerate() {
                ui.push_id(("name", i), |ui| {
                    ui.add(egui::TextEdit::singleline(name).desired_width(f32::INFINITY));
                });
            }
            if ui.button(RichText::new("save the names").strong()).clicked() {
                let file = file_for(manifest, &curation.built_names, &curation.names);
                let path = curation.folder.join(NAMES_FILE);
                curation.status = Some(
                    serde_json::to_vec_pretty(&file)
                        .map_err(|e| e.to_string())
                        .and_then(|bytes| write_atomic(&path, &bytes).map_err(|e| e.to_string()))
                        .map(|()| format!("saved {} new names to {}", file.hotspots.len(), path.display())),
                );
                renamed = curation.status.as_ref().is_some_and(Result::is_ok);
            }
        }
        match &curation.status {
            Some(Ok(message)) => {
                ui.colored_label(Color32::LIGHT_GREEN, message);
            }
            Some(Err(message)) => {
                ui.colored_label(Color32::from_rgb(255, 140, 120), message);
            }
            None => {}
        }
    });
    if !open {
        window_open.0 = Some(false);
    }
    if renamed {
        // The new names show at once, and the tour's stops follow their hotspots.
        let names = curation.names.iter().map(|n| n.trim().to_string());
        let bundle = std::sync::Arc::make_mut(&mut shown.bundle);
        for (cluster, name) in bundle.manifest.clusters.iter_mut().zip(names) {
            if name.is_empty() || name == cluster.name {
                continue;
            }
            for stop in &mut curation.tour.stops {
                if stop.hotspot.as_ref() == Some(&Reference::Name(cluster.name.clone())) {
                    stop.hotspot = Some(Reference::Name(name.clone()));
                }
            }
            cluster.name = name;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caption_fields_switch_between_one_language_and_several() {
        let mut slot = None;
        text_mut(&mut slot, None, None).push_str("Nebulae");
        assert_eq!(slot, Some(Text::Same("Nebulae".into())));
        // Languages added: what was written becomes the first language's.
        text_mut(&mut slot, Some("fr"), Some("en")).push_str("Nébuleuses");
        let Some(Text::Translated(texts)) = &slot else { panic!("{slot:?}") };
        assert_eq!((texts["en"].as_str(), texts["fr"].as_str()), ("Nebulae", "Nébuleuses"));
        text_mut(&mut slot, Some("de"), Some("en"));
        tidy(&mut slot);
        let Some(Text::Translated(texts)) = &slot else { panic!("{slot:?}") };
        assert_eq!(texts.len(), 2, "the empty German text is left out");
        let mut empty = Some(Text::Same("  ".into()));
        tidy(&mut empty);
        assert_eq!(empty, None);
    }
}
