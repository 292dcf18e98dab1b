//! Pictures without a person at the screen: wait for the whole collection to be drawn, act as
//! asked (switch layout, click a point), write a PNG (and a report of where each image was
//! drawn, for tests), then exit.

use super::camera::{FlyMode, FlyTo};
use super::loading::{Collection, LoadFailure, ViewerAssets};
use super::lod::CloseUps;
use super::picking::{ScreenProjection, close_up, image_at, select};
use super::rendering::{LayoutTransition, ShowLayout};
use super::ui::Thumbnails;
use super::{Selection, ViewSettings, ViewerState};
use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput, NativeKey};
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy_panorbit_camera::PanOrbitCamera;
use std::path::PathBuf;

#[derive(Resource, Clone)]
pub struct Poster {
    pub path: PathBuf,
    /// Frames to render once everything has arrived and settled, before the picture.
    pub frames: u32,
    /// Layout to switch to (animated) before the picture.
    pub switch_to: Option<String>,
    /// A click at this point (logical pixels from the top-left) before the picture.
    pub click: Option<Vec2>,
    /// Fly up to this image before the picture.
    pub close_up: Option<u32>,
    /// Keys to press in turn before the picture, each held for a number of frames.
    pub keys: Vec<(KeyCode, u32)>,
    /// Keep the side panels in the picture (they are left out of posters by default).
    pub panels: bool,
    /// Where to write a JSON report of what was drawn where.
    pub report: Option<PathBuf>,
}

/// Set while the collection is still being assembled (`pixfly open`): the picture waits until
/// `take`, and the app, once the picture is written, until `exit`.
#[derive(Resource, Default)]
pub struct Hold {
    pub take: bool,
    pub exit: bool,
    /// Set here once the picture is written.
    pub shot: bool,
}

/// More to say in the report, by whoever makes the collection.
#[derive(Resource, Default)]
pub struct ReportNotes(pub serde_json::Map<String, serde_json::Value>);

/// What a collection that is still assembling asks of the picture.
#[derive(bevy::ecs::system::SystemParam)]
struct Assembly<'w> {
    hold: Option<Res<'w, Hold>>,
    notes: Option<Res<'w, ReportNotes>>,
}

pub struct PosterPlugin(pub Poster);

impl Plugin for PosterPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.0.clone())
            .insert_resource(ViewSettings { show_ui: self.0.panels, ..default() })
            .init_resource::<Steps>()
            .add_systems(OnEnter(ViewerState::Failed), exit_with_failure)
            .add_systems(Update, take_steps.run_if(in_state(ViewerState::Exploring)));
    }
}

/// How far the poster has got.
#[derive(Resource, Default)]
struct Steps {
    switched: bool,
    flown: bool,
    /// Keys already pressed, and frames left to hold the current one.
    keys_done: usize,
    holding: u32,
    clicked: bool,
    settled_frames: u32,
    /// Frames to wait after asking for a change, so the systems that make it have read the
    /// request before "has everything settled?" is asked.
    pending: u32,
    /// Seconds from start until the first atlas had arrived (images start to show; the others
    /// appear as their atlases land) and until every atlas had.
    first_images_after: Option<f32>,
    ready_after: Option<f32>,
    /// Wall time of each settled frame, for the frame-time benchmark.
    frame_seconds: Vec<f32>,
    /// GPU memory of the atlases as drawn (reduced to the budget, with mipmaps).
    atlas_texture_bytes: u64,
    shot: bool,
    saved: bool,
}

fn exit_with_failure(failure: Res<LoadFailure>, mut exit: MessageWriter<AppExit>) {
    eprintln!("error: cannot show the bundle: {}", failure.0);
    exit.write(AppExit::error());
}

fn take_steps(
    mut commands: Commands,
    poster: Res<Poster>,
    mut steps: ResMut<Steps>,
    collection: Res<Collection>,
    assets: ViewerAssets,
    transition: Res<LayoutTransition>,
    settings: Res<ViewSettings>,
    mut selection: ResMut<Selection>,
    orbit: Single<&PanOrbitCamera>,
    camera: Single<(&Camera, &GlobalTransform)>,
    close_ups: Res<CloseUps>,
    thumbnails: Res<Thumbnails>,
    (mut show, mut fly, mut keyboard): (
        MessageWriter<ShowLayout>,
        MessageWriter<FlyTo>,
        MessageWriter<KeyboardInput>,
    ),
    (window, fly_mode): (Single<Entity, With<bevy::window::PrimaryWindow>>, Res<FlyMode>),
    (time, assembly): (Res<Time<Real>>, Assembly),
    mut exit: MessageWriter<AppExit>,
) {
    let Assembly { hold, notes } = assembly;
    if steps.saved {
        if hold.as_ref().is_none_or(|hold| hold.exit) {
            exit.write(AppExit::Success);
        }
        return;
    }
    let loaded = assets.atlases_loaded(&collection);
    if matches!(loaded, Ok(n) if n > 0) {
        steps.first_images_after.get_or_insert(time.elapsed_secs());
    }
    match loaded {
        Ok(loaded) if loaded == collection.atlases.len() => {
            steps.ready_after.get_or_insert(time.elapsed_secs());
            steps.atlas_texture_bytes = assets.atlas_bytes.get();
        }
        Ok(_) => return,
        Err(message) => {
            eprintln!("error: {message}");
            exit.write(AppExit::error());
            return;
        }
    }
    if hold.as_ref().is_some_and(|hold| !hold.take) {
        return;
    }
    if steps.pending > 0 {
        steps.pending -= 1;
        return;
    }
    if !steps.switched {
        steps.switched = true;
        if let Some(name) = &poster.switch_to {
            let Some(layout) = collection.bundle.layout_index(name) else {
                eprintln!("error: the bundle has no layout {name:?}");
                exit.write(AppExit::error());
                return;
            };
            show.write(ShowLayout(layout));
            steps.pending = 2;
            return;
        }
    }
    if !steps.flown {
        steps.flown = true;
        if let Some(image) = poster.close_up {
            if image as usize >= collection.image_count() {
                eprintln!("error: there is no image {image} (the bundle has {})", collection.image_count());
                exit.write(AppExit::error());
                return;
            }
            fly.write(close_up(&transition, image, settings.image_size));
            steps.pending = 2;
            return;
        }
    }
    // Keys go in as the window would send them, so they take the same path as a person's.
    if let Some(&(key, frames)) = poster.keys.get(steps.keys_done) {
        let event = |state| KeyboardInput {
            key_code: key,
            logical_key: Key::Unidentified(NativeKey::Unidentified),
            state,
            text: None,
            repeat: false,
            window: *window,
        };
        if steps.holding == 0 {
            keyboard.write(event(ButtonState::Pressed));
            steps.holding = frames;
        } else {
            // Held keys are pressed again each frame, as a keyboard repeats them: a focus change
            // in the window system (Xvfb under load) releases every key, and must not end the hold.
            if steps.holding > 1 {
                keyboard.write(KeyboardInput { repeat: true, ..event(ButtonState::Pressed) });
            }
            steps.holding -= 1;
            if steps.holding == 0 {
                keyboard.write(event(ButtonState::Released));
                steps.keys_done += 1;
                steps.pending = 2;
            }
        }
        return;
    }
    let settled = transition.is_done()
        && close_ups.loaded(&assets)
        && thumbnails.loaded(&assets)
        && orbit.focus.distance(orbit.target_focus) < 1e-3 * orbit.target_radius
        && (orbit.radius.unwrap_or(0.0) - orbit.target_radius).abs() < 1e-3 * orbit.target_radius;
    if !settled {
        steps.settled_frames = 0;
        return;
    }
    if !steps.clicked {
        steps.clicked = true;
        if let Some(point) = poster.click {
            match image_at(point, *camera, &collection, &transition, settings.image_size) {
                Some(hit) => select(&mut selection, hit.image, &collection),
                None => info!("nothing at {point}"),
            }
        }
    }
    steps.settled_frames += 1;
    if steps.settled_frames > 1 {
        steps.frame_seconds.push(time.delta_secs());
    }
    if steps.settled_frames < poster.frames || steps.shot {
        return;
    }
    steps.shot = true;
    if let Some(path) = &poster.report
        && let Err(e) = write_report(
            path,
            &steps,
            &collection,
            &transition,
            &selection,
            &close_ups,
            *camera,
            settings.image_size,
            fly_mode.0,
            notes.as_deref(),
        )
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        exit.write(AppExit::error());
        return;
    }
    let path = poster.path.clone();
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>,
              mut exit: MessageWriter<AppExit>,
              mut steps: ResMut<Steps>,
              hold: Option<ResMut<Hold>>| {
            match save_picture(&captured, &path) {
                Ok(()) => {
                    info!("wrote {}", path.display());
                    steps.saved = true;
                    if let Some(mut hold) = hold {
                        hold.shot = true;
                    }
                }
                Err(e) => {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    exit.write(AppExit::error());
                }
            }
        },
    );
}

/// Write a captured window to `path` (PNG, without alpha).
pub fn save_picture(captured: &ScreenshotCaptured, path: &std::path::Path) -> Result<(), String> {
    let image = captured.image.clone().try_into_dynamic().map_err(|e| e.to_string())?;
    image.to_rgb8().save(path).map_err(|e| e.to_string())
}

/// Where every image's centre was drawn (physical pixels, as in the picture), and what was
/// selected: the test suite checks the picture against it.
fn write_report(
    path: &std::path::Path,
    steps: &Steps,
    collection: &Collection,
    transition: &LayoutTransition,
    selection: &Selection,
    close_ups: &CloseUps,
    (camera, transform): (&Camera, &GlobalTransform),
    image_size: f32,
    fly_mode: bool,
    notes: Option<&ReportNotes>,
) -> std::io::Result<()> {
    let projection =
        ScreenProjection::new(camera, transform).ok_or_else(|| std::io::Error::other("no viewport"))?;
    let to_physical = camera.physical_viewport_size().map_or(1.0, |p| p.x as f32) / projection.viewport.x;
    let images: Vec<_> = projection
        .images(collection, transition, image_size)
        .map(|image| {
            serde_json::json!({
                "id": image.id,
                "x": image.centre.x * to_physical,
                "y": image.centre.y * to_physical,
                "half_width": image.half.x * to_physical,
                "half_height": image.half.y * to_physical,
                "depth": image.depth,
            })
        })
        .collect();
    let mut report = serde_json::json!({
        "layout": collection.bundle.manifest.layouts[transition.layout].name,
        "selected": selection.selected,
        "close_ups": close_ups.images(),
        "first_images_after_seconds": steps.first_images_after,
        "ready_after_seconds": steps.ready_after,
        "frame_seconds": steps.frame_seconds,
        "atlas_texture_bytes": steps.atlas_texture_bytes,
        "fly_mode": fly_mode,
        "camera": transform.translation().to_array(),
        "images": images,
    });
    if let (Some(notes), Some(report)) = (notes, report.as_object_mut()) {
        report.extend(notes.0.clone());
    }
    std::fs::write(path, serde_json::to_vec_pretty(&report)?)
}
