//! The kiosk on simulated time, for tests, posters and soak tests: the clock advances a fixed
//! step each frame (as fast as the machine renders), touches come at given moments (or at
//! random, like visitors), and at the end a picture and a report of what was shown, with the
//! memory the kiosk held, are written.

use super::attract::{Glide, caption};
use super::{Kiosk, KioskMode, KioskSystems};
use crate::viewer::ViewerState;
use crate::viewer::loading::{Collection, ViewerAssets};
use crate::viewer::lod::CloseUps;
use crate::viewer::poster::save_picture;
use crate::viewer::ui::Thumbnails;
use bevy::ecs::system::SystemParam;
use bevy::input::touch::{TouchInput, TouchPhase};
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::time::TimeUpdateStrategy;
use bevy::window::PrimaryWindow;
use bevy_panorbit_camera::PanOrbitCamera;
use pixfly_core::tour::Target;
use std::path::PathBuf;
use std::time::Duration;

/// What to do on simulated time.
#[derive(Resource, Clone)]
pub struct Script {
    pub screenshot: PathBuf,
    /// Simulated seconds from when the collection is on screen to the picture.
    pub after: f32,
    /// Taps: where (logical pixels from the top-left) and when (simulated seconds).
    pub touches: Vec<(Vec2, f32)>,
    /// Pinches (two fingers spreading apart: zoom in): around where, and when.
    pub pinches: Vec<(Vec2, f32)>,
    /// Simulated seconds per frame.
    pub step: f32,
    pub report: Option<PathBuf>,
    /// Visitors arriving at random (seeded) moments, this many per simulated hour on average,
    /// each tapping a few times at random places and then leaving.
    pub visitors_per_hour: f32,
}

pub struct SimulationPlugin(pub Script);

impl Plugin for SimulationPlugin {
    fn build(&self, app: &mut App) {
        let step = Duration::from_secs_f32(self.0.step);
        app.insert_resource(self.0.clone())
            .insert_resource(TimeUpdateStrategy::ManualDuration(step))
            .init_resource::<Run>()
            .add_systems(Startup, hold_the_clock)
            .add_systems(Update, play.before(KioskSystems::Input).run_if(in_state(ViewerState::Exploring)));
    }
}

/// How far the script has got, and what it has measured.
#[derive(Resource, Default)]
struct Run {
    /// Virtual seconds when the collection was on screen: the script's zero.
    start: Option<f64>,
    /// Taps to play, sorted by time, and how many have been.
    taps: Vec<(Vec2, f32)>,
    tapped: usize,
    /// A finger down last frame, to lift now.
    lift: Option<TouchInput>,
    /// Pinches done, and the one under way: its centre and the frames it has run.
    pinched: usize,
    pinching: Option<(Vec2, u32)>,
    /// Memory back at the whole view after the first whole tour, after the first whole cycle
    /// (tour, a visitor, the idle reset, the tour home again: every kind of allocation has been
    /// made once) and after the latest, and the most since the start (the same place on screen
    /// each time, so they compare).
    first_loop: Option<Memory>,
    first_cycle: Option<Memory>,
    last_loop: Option<(u32, Memory)>,
    peak_resident: u64,
    /// Resident memory at each simulated hour, to see whether it levels off.
    resident_by_hour: Vec<u64>,
    finished: bool,
    shot: bool,
}

#[derive(Clone, Copy, Default)]
struct Memory {
    resident: u64,
    texture: u64,
    /// Close-up and panel thumbnails among the textures.
    thumbnails: usize,
}

impl Memory {
    fn json(self) -> serde_json::Value {
        serde_json::json!({"resident_bytes": self.resident, "texture_bytes": self.texture, "thumbnails": self.thumbnails})
    }
}

/// The clock stands still until everything needed for the first view has arrived: the tour's
/// timing does not depend on how fast this machine loads.
fn hold_the_clock(mut time: ResMut<Time<Virtual>>, script: Res<Script>) {
    time.set_max_delta(Duration::from_secs_f32(script.step * 2.0));
    time.pause();
}

/// Resident memory of this process, from /proc (0 where there is none).
pub fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    kib.unwrap_or(0) * 1024
}

/// Texture memory the viewer holds: the atlases as uploaded, and the close-up and panel
/// thumbnails it keeps (each counted at the bundle's largest thumbnail, with mipmaps).
fn texture_bytes(
    collection: &Collection,
    assets: &ViewerAssets,
    close_ups: &CloseUps,
    thumbnails: &Thumbnails,
) -> u64 {
    let side = collection.bundle.manifest.thumb_size as u64;
    let thumb = side * side * 4 * 4 / 3;
    assets.atlas_bytes.get() + (close_ups.images().len() + thumbnails.len()) as u64 * thumb
}

/// One frame of a pinch: two fingers 40 px apart go down around `centre`, spread to 240 px
/// over a dozen frames and lift. Whether it goes on.
fn pinch(centre: Vec2, frame: u32, window: Entity, touches: &mut MessageWriter<TouchInput>) -> bool {
    const FRAMES: u32 = 12;
    let phase = match frame {
        0 => TouchPhase::Started,
        f if f > FRAMES => TouchPhase::Ended,
        _ => TouchPhase::Moved,
    };
    let half = 20.0 + 100.0 * frame.min(FRAMES) as f32 / FRAMES as f32;
    for (id, side) in [(u64::MAX - 1, -1.0), (u64::MAX, 1.0)] {
        let position = centre + Vec2::new(side * half, 0.0);
        touches.write(TouchInput { phase, position, window, force: None, id });
    }
    frame <= FRAMES
}

/// Random but repeatable visitors: (where, when) of their taps within `seconds`.
fn visitors(per_hour: f32, seconds: f32, window: Vec2) -> Vec<(Vec2, f32)> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1u64 << 53) as f32
    };
    let mut taps = Vec::new();
    let mut at = 0.0f32;
    if per_hour <= 0.0 {
        return taps;
    }
    loop {
        at += -(1.0 - random()).ln() * 3600.0 / per_hour;
        if at >= seconds {
            return taps;
        }
        // A visitor taps two to six times, a few seconds apart.
        let count = 2 + (random() * 5.0) as usize;
        for i in 0..count {
            let point = Vec2::new(random(), random()) * window * 0.8 + window * 0.1;
            taps.push((point, at + i as f32 * (2.0 + random() * 6.0)));
        }
    }
}

/// What the kiosk shows and holds, for the report.
#[derive(SystemParam)]
struct Shown<'w, 's> {
    collection: Res<'w, Collection>,
    assets: ViewerAssets<'w>,
    close_ups: Res<'w, CloseUps>,
    thumbnails: Res<'w, Thumbnails>,
    kiosk: Res<'w, Kiosk>,
    glide: Res<'w, Glide>,
    mode: Res<'w, State<KioskMode>>,
    camera: Single<'w, 's, &'static PanOrbitCamera>,
    images: Res<'w, Assets<Image>>,
    meshes: Res<'w, Assets<Mesh>>,
    entities: Query<'w, 's, Entity>,
}

fn play(
    mut commands: Commands,
    mut time: ResMut<Time<Virtual>>,
    (script, mut run): (Res<Script>, ResMut<Run>),
    shown: Shown,
    window: Single<(Entity, &Window), With<PrimaryWindow>>,
    mut touches: MessageWriter<TouchInput>,
    mut exit: MessageWriter<AppExit>,
) {
    let Shown {
        collection,
        assets,
        close_ups,
        thumbnails,
        kiosk,
        glide,
        mode,
        camera,
        images,
        meshes,
        entities,
    } = shown;
    let (window_entity, window) = *window;
    if run.finished {
        return;
    }
    let Some(start) = run.start else {
        match assets.atlases_loaded(&collection) {
            Ok(n) if n == collection.atlases.len() => {
                time.unpause();
                run.start = Some(time.elapsed_secs_f64());
                let size = Vec2::new(window.width(), window.height());
                let mut taps = script.touches.clone();
                taps.extend(visitors(script.visitors_per_hour, script.after, size));
                taps.sort_by(|a, b| a.1.total_cmp(&b.1));
                run.taps = taps;
            }
            Ok(_) => {}
            Err(message) => {
                error!("{message}");
                exit.write(AppExit::error());
            }
        }
        return;
    };
    let now = (time.elapsed_secs_f64() - start) as f32;
    if let Some(lift) = run.lift.take() {
        touches.write(TouchInput { phase: TouchPhase::Ended, ..lift });
    } else if let Some(&(position, at)) = run.taps.get(run.tapped)
        && at <= now
    {
        let touch = TouchInput {
            phase: TouchPhase::Started,
            position,
            window: window_entity,
            force: None,
            id: run.tapped as u64,
        };
        touches.write(touch);
        run.lift = Some(touch);
        run.tapped += 1;
    }
    if run.pinching.is_none()
        && let Some(&(centre, at)) = script.pinches.get(run.pinched)
        && at <= now
    {
        run.pinching = Some((centre, 0));
        run.pinched += 1;
    }
    if let Some((centre, frame)) = run.pinching {
        run.pinching = pinch(centre, frame, window_entity, &mut touches).then_some((centre, frame + 1));
    }
    let memory = Memory {
        resident: resident_bytes(),
        texture: texture_bytes(&collection, &assets, &close_ups, &thumbnails),
        thumbnails: close_ups.images().len() + thumbnails.len(),
    };
    run.peak_resident = run.peak_resident.max(memory.resident);
    if now >= 3600.0 * run.resident_by_hour.len() as f32 {
        run.resident_by_hour.push(memory.resident);
    }
    // Two seconds after the camera is back at the whole view: what it shows has settled.
    let settled = glide.arrived.is_some_and(|at| time.elapsed_secs_f64() - at >= 2.0);
    let home = *mode.get() == KioskMode::Attract && glide.stop.is_none() && settled && glide.loops >= 1;
    if home && run.last_loop.is_none_or(|(loops, _)| loops != glide.loops) {
        run.first_loop.get_or_insert(memory);
        if kiosk.resets >= 1 {
            run.first_cycle.get_or_insert(memory);
        }
        run.last_loop = Some((glide.loops, memory));
    }
    if now < script.after {
        return;
    }
    // The moment has come: stop the clock, let the close-ups arrive, then report and take it.
    time.pause();
    if !(close_ups.loaded(&assets) && thumbnails.loaded(&assets)) || run.shot {
        return;
    }
    run.shot = true;
    if let Some(path) = &script.report {
        let stop = glide.stop.map(|stop| {
            let words =
                caption(&kiosk, &collection, stop, glide.loops as usize % kiosk.tour().languages.len());
            let target = match kiosk.tour().stops[stop].target {
                Target::Hotspot(c) => format!("hotspot {:?}", collection.bundle.manifest.clusters[c].name),
                Target::Image(id) => format!("image {id}"),
                Target::Camera(_) => "camera".to_string(),
            };
            serde_json::json!({"number": stop + 1, "target": target, "arrived": glide.arrived.is_some(),
                "caption": {"title": words.title, "text": words.text, "credit": words.credit}})
        });
        let report = serde_json::json!({
            "mode": mode.get().name(),
            "simulated_seconds": now,
            "stop": stop,
            "caption_opacity": glide.caption_opacity(&kiosk, time.elapsed_secs_f64()),
            "loops": glide.loops,
            "resets": kiosk.resets,
            "taps": run.tapped,
            "pinches": run.pinched,
            "memory": memory.json(),
            "memory_after_first_loop": run.first_loop.map(Memory::json),
            "memory_after_first_cycle": run.first_cycle.map(Memory::json),
            "memory_after_last_loop": run.last_loop.map(|(_, m)| m.json()),
            "peak_resident_bytes": run.peak_resident,
            "resident_bytes_by_hour": run.resident_by_hour,
            "image_assets": images.len(),
            "mesh_assets": meshes.len(),
            "entities": entities.iter().count(),
            "errors_logged": crate::progress::errors_logged(),
            "camera": {"focus": camera.focus.to_array(), "radius": camera.radius},
        });
        if let Err(e) = std::fs::write(path, serde_json::to_vec_pretty(&report).unwrap_or_default()) {
            error!("cannot write {}: {e}", path.display());
            exit.write(AppExit::error());
            return;
        }
    }
    let path = script.screenshot.clone();
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>, mut run: ResMut<Run>| {
            run.finished = true;
            match save_picture(&captured, &path) {
                Ok(()) => {
                    info!("wrote {}", path.display());
                    exit.write(AppExit::Success);
                }
                Err(e) => {
                    error!("cannot write {}: {e}", path.display());
                    exit.write(AppExit::error());
                }
            }
        },
    );
}
