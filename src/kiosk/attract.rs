//! The attract tour: the camera glides from stop to stop along eased paths (pulling back to
//! fly over when the stops are far apart), lingers at each while its caption is shown, returns
//! to the whole view and loops. A slow drift on top keeps every pixel moving (no burn-in).

use super::{Kiosk, KioskMode, KioskSystems};
use crate::viewer::ViewSettings;
use crate::viewer::camera::framing;
use crate::viewer::loading::{Collection, TourBytes};
use bevy::prelude::*;
use bevy_panorbit_camera::PanOrbitCamera;
use pixfly_core::tour::{Caption, Target, Text};
use std::f32::consts::{PI, TAU};

/// The share of the window's width the caption card covers, on the left, at a stop: the stop is
/// framed in the rest.
pub const CAPTION_WIDTH: f32 = 0.34;

pub struct AttractPlugin;

impl Plugin for AttractPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Glide>()
            .add_systems(OnEnter(KioskMode::Attract), start_tour)
            .add_systems(Update, glide.in_set(KioskSystems::Tour).run_if(in_state(KioskMode::Attract)));
    }
}

/// Where the camera is: it looks at `focus` from `radius` away, turned by `yaw` and `pitch`
/// (as bevy_panorbit_camera has it).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pose {
    pub focus: Vec3,
    pub radius: f32,
    pub yaw: f32,
    pub pitch: f32,
}

/// The tour's progress: the move under way, or the stop the camera lingers at.
#[derive(Resource, Default)]
pub struct Glide {
    /// The stop headed for or lingered at: `None` is the whole view, between loops.
    pub stop: Option<usize>,
    from: Pose,
    to: Pose,
    started: f64,
    travel: f32,
    /// When the camera arrived at the stop (it lingers from then).
    pub arrived: Option<f64>,
    /// Whole tours completed (on the way back to the whole view).
    pub loops: u32,
}

impl Glide {
    /// Setting off, at `now`, from `from` to `stop`'s view `to`.
    fn towards(stop: Option<usize>, from: Pose, to: Pose, now: f64, loops: u32) -> Glide {
        Glide { stop, from, to, started: now, travel: travel_seconds(from, to), arrived: None, loops }
    }

    /// How long the stop lasts once arrived.
    fn linger(&self, kiosk: &Kiosk) -> f32 {
        match self.stop {
            Some(stop) => kiosk.tour().stops[stop].linger_seconds,
            None => (kiosk.tour().stops.first().map_or(8.0, |s| s.linger_seconds) * 0.6).max(4.0),
        }
    }

    /// How visible the caption is now, 0 to 1: it fades in on arrival and out before leaving.
    pub fn caption_opacity(&self, kiosk: &Kiosk, now: f64) -> f32 {
        let Some(arrived) = self.arrived else { return 0.0 };
        let since = (now - arrived) as f32;
        let left = self.linger(kiosk) - since;
        (since.min(left) / 0.8).clamp(0.0, 1.0)
    }
}

/// The caption of a stop, with the hotspot's or image's own words where the tour gives none.
pub struct CaptionText {
    pub title: String,
    pub text: String,
    pub credit: String,
}

/// The caption of `stop` in the tour's `language`-th language.
pub fn caption(kiosk: &Kiosk, collection: &Collection, stop: usize, language: usize) -> CaptionText {
    let tour = kiosk.tour();
    let language = tour.languages[language.min(tour.languages.len() - 1)].as_str();
    let first = tour.languages[0].as_str();
    let Caption { title, text, credit } = &tour.stops[stop].caption;
    let given = |t: &Option<Text>| t.as_ref().map(|t| t.get(language, first).to_string());
    let manifest = &collection.bundle.manifest;
    let (own_title, own_text) = match tour.stops[stop].target {
        Target::Hotspot(c) => {
            let cluster = &manifest.clusters[c];
            (cluster.name.clone(), format!("{} images", cluster.members.len()))
        }
        Target::Image(id) => {
            let record = &manifest.images[id as usize];
            let m = &record.metadata;
            let stem = record.filename.rsplit('/').next().unwrap_or(&record.filename);
            let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
            let title = m.label.clone().or_else(|| m.description.clone()).unwrap_or_else(|| stem.to_string());
            let facts: Vec<String> =
                m.category.iter().cloned().chain(m.year.map(|y| y.to_string())).collect();
            (title, facts.join(" · "))
        }
        Target::Camera(_) => (String::new(), String::new()),
    };
    CaptionText {
        title: given(title).unwrap_or(own_title),
        text: given(text).unwrap_or(own_text),
        credit: given(credit).unwrap_or_default(),
    }
}

/// The slow movement added to wherever the tour has the camera, as a function of the clock:
/// the view wanders a few percent and breathes in and out; a 3D layout also turns a little.
fn drift(pose: Pose, seconds: f64, flat: bool) -> Pose {
    let wave = |period: f64| ((seconds % period) / period * TAU as f64).sin() as f32;
    let rotation = Quat::from_rotation_y(pose.yaw) * Quat::from_rotation_x(-pose.pitch);
    let sideways = rotation * Vec3::X * wave(53.0) + rotation * Vec3::Y * wave(71.0);
    Pose {
        focus: pose.focus + sideways * pose.radius * 0.025,
        radius: pose.radius * (1.0 + 0.03 * wave(89.0)),
        yaw: pose.yaw + if flat { 0.0 } else { 0.15 * wave(131.0) },
        pitch: pose.pitch,
    }
}

/// The pose without the drift: where the tour would have the camera, given where it is.
fn undrift(shown: Pose, seconds: f64, flat: bool) -> Pose {
    // The drift is small and smooth: two fixed-point steps recover the pose closely enough.
    let mut pose = shown;
    for _ in 0..3 {
        let drifted = drift(pose, seconds, flat);
        pose.focus += shown.focus - drifted.focus;
        pose.radius *= shown.radius / drifted.radius;
        pose.yaw += shown.yaw - drifted.yaw;
    }
    pose
}

fn smootherstep(t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
}

/// The angle from `a` to `b` the short way round.
fn turn(a: f32, b: f32) -> f32 {
    (b - a + PI).rem_euclid(TAU) - PI
}

/// Where the camera is `t` (0 to 1) of the way from `from` to `to`: eased at both ends, and
/// pulled back in the middle when the two are far apart, so the flight passes over the layout
/// rather than through it.
pub fn path(from: Pose, to: Pose, t: f32) -> Pose {
    let e = smootherstep(t);
    let near = from.radius.min(to.radius).max(1e-3);
    let far = from.radius.max(to.radius);
    let apart = from.focus.distance(to.focus);
    let pull_back = ((apart * 0.6 + far) / far).ln().max(0.0) * (PI * t.clamp(0.0, 1.0)).sin();
    let log_radius = from.radius.max(near).ln() * (1.0 - e) + to.radius.max(near).ln() * e + pull_back;
    Pose {
        focus: from.focus.lerp(to.focus, e),
        radius: log_radius.exp(),
        yaw: from.yaw + turn(from.yaw, to.yaw) * e,
        pitch: from.pitch + (to.pitch - from.pitch) * e,
    }
}

/// Seconds for a move: longer when it goes farther or changes scale more, 4 to 10.
fn travel_seconds(from: Pose, to: Pose) -> f32 {
    let near = from.radius.min(to.radius).max(1e-3);
    let apart = from.focus.distance(to.focus) / near;
    let zoom = (from.radius.max(1e-3) / to.radius.max(1e-3)).ln().abs();
    (4.0 + 1.2 * (1.0 + apart).ln() + 0.8 * zoom).clamp(4.0, 10.0)
}

/// Where the tour looks from at a stop (or, for `None`, at the whole layout).
fn stop_pose(
    stop: Option<usize>,
    kiosk: &Kiosk,
    collection: &Collection,
    settings: &ViewSettings,
    window: &Window,
) -> Pose {
    let tour = kiosk.tour();
    let layout = tour.layout;
    let flat = collection.bundle.manifest.layouts[layout].dims == 2;
    let places = &collection.places[layout];
    let size = Vec2::new(window.width(), window.height());
    let covered = size.x * CAPTION_WIDTH;
    let (focus, radius, yaw, pitch) = match stop.map(|s| tour.stops[s].target) {
        None => framing(places, settings.image_size, flat, size, 0.0),
        Some(Target::Hotspot(c)) => {
            let members: Vec<Vec3> =
                collection.bundle.manifest.clusters[c].members.iter().map(|&m| places[m as usize]).collect();
            framing(&members, settings.image_size, flat, size, covered)
        }
        // The image and a little of what is around it.
        Some(Target::Image(id)) => {
            framing(&[places[id as usize]], settings.image_size * 2.5, flat, size, covered)
        }
        Some(Target::Camera(pose)) => {
            let scale = collection.scales[layout];
            let focus = Vec3::from_array(pose.focus) * scale;
            (focus, pose.distance * scale, pose.yaw, pose.pitch)
        }
    };
    Pose { focus, radius, yaw, pitch }
}

fn pose_of(camera: &PanOrbitCamera) -> Pose {
    Pose {
        focus: camera.focus,
        radius: camera.radius.unwrap_or(camera.target_radius),
        yaw: camera.yaw.unwrap_or(camera.target_yaw),
        pitch: camera.pitch.unwrap_or(camera.target_pitch),
    }
}

fn place_camera(camera: &mut PanOrbitCamera, pose: Pose) {
    camera.focus = pose.focus;
    camera.target_focus = pose.focus;
    camera.radius = Some(pose.radius);
    camera.target_radius = pose.radius;
    camera.yaw = Some(pose.yaw);
    camera.target_yaw = pose.yaw;
    camera.pitch = Some(pose.pitch);
    camera.target_pitch = pose.pitch;
    camera.force_update = true;
}

/// Attract mode begins (at start, or after a reset) by gliding from wherever the camera is to
/// the whole view.
fn start_tour(
    time: Res<Time>,
    mut kiosk: ResMut<Kiosk>,
    (collection, file): (Res<Collection>, Option<Res<TourBytes>>),
    settings: Res<ViewSettings>,
    window: Single<&Window>,
    camera: Single<&PanOrbitCamera>,
    mut glide: ResMut<Glide>,
) {
    let now = time.elapsed_secs_f64();
    kiosk.choose_tour(&collection.bundle.manifest, file.as_deref());
    let flat = collection.bundle.manifest.layouts[kiosk.tour().layout].dims == 2;
    let to = stop_pose(None, &kiosk, &collection, &settings, &window);
    // At start the camera may not have been placed yet: begin at the whole view.
    let from = if camera.initialized { undrift(pose_of(&camera), now, flat) } else { to };
    *glide = Glide::towards(None, from, to, now, glide.loops);
    info!("kiosk: attract tour");
}

fn glide(
    time: Res<Time>,
    kiosk: Res<Kiosk>,
    collection: Res<Collection>,
    settings: Res<ViewSettings>,
    window: Single<&Window>,
    mut camera: Single<&mut PanOrbitCamera>,
    mut glide: ResMut<Glide>,
) {
    let now = time.elapsed_secs_f64();
    let flat = collection.bundle.manifest.layouts[kiosk.tour().layout].dims == 2;
    let t = ((now - glide.started) as f32 / glide.travel).min(1.0);
    if t >= 1.0 && glide.arrived.is_none() {
        glide.arrived = Some(now);
    }
    if let Some(arrived) = glide.arrived
        && (now - arrived) as f32 >= glide.linger(&kiosk)
    {
        let stops = kiosk.tour().stops.len();
        let next = match glide.stop {
            None if stops == 0 => None,
            None => Some(0),
            Some(stop) if stop + 1 < stops => Some(stop + 1),
            Some(_) => {
                glide.loops += 1;
                None
            }
        };
        let from = glide.to;
        let to = stop_pose(next, &kiosk, &collection, &settings, &window);
        *glide = Glide::towards(next, from, to, now, glide.loops);
    }
    let t = ((now - glide.started) as f32 / glide.travel).min(1.0);
    place_camera(&mut camera, drift(path(glide.from, glide.to, t), now, flat));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pose(x: f32, radius: f32) -> Pose {
        Pose { focus: Vec3::new(x, 0.0, 0.0), radius, yaw: 0.0, pitch: 0.0 }
    }

    #[test]
    fn a_path_starts_and_ends_at_rest_and_flies_over_far_stops() {
        let (from, to) = (pose(0.0, 10.0), pose(100.0, 10.0));
        assert_eq!(path(from, to, 0.0), from);
        let end = path(from, to, 1.0);
        assert!(end.focus.distance(to.focus) < 1e-4 && (end.radius - 10.0).abs() < 1e-3);
        // Eased: the first and last hundredth of the time cover almost none of the way.
        assert!(path(from, to, 0.01).focus.x < 0.01 && path(from, to, 0.99).focus.x > 99.99);
        // Halfway it has pulled back to see both stops.
        assert!(path(from, to, 0.5).radius > 60.0, "{}", path(from, to, 0.5).radius);
        // Near stops: no detour.
        assert!((path(pose(0.0, 10.0), pose(1.0, 10.0), 0.5).radius - 10.0).abs() < 1.0);
        // Turning goes the short way round.
        let a = Pose { yaw: 3.0, ..from };
        let b = Pose { yaw: -3.0, ..from };
        assert!(path(a, b, 0.5).yaw > 3.0);
    }

    #[test]
    fn the_drift_keeps_moving_and_is_undone() {
        let base = Pose { focus: Vec3::new(1.0, 2.0, 0.0), radius: 40.0, yaw: 0.5, pitch: 0.3 };
        let shown: Vec<Pose> = (0..100).map(|s| drift(base, s as f64 * 10.0, false)).collect();
        // Never still: ten seconds apart, the view has always moved.
        assert!(shown.windows(2).all(|w| w[0].focus.distance(w[1].focus) > 1e-3));
        // And never far: a few percent of the view.
        assert!(shown.iter().all(|p| p.focus.distance(base.focus) < 0.05 * base.radius));
        let back = undrift(drift(base, 1234.5, false), 1234.5, false);
        assert!(back.focus.distance(base.focus) < 1e-3 && (back.radius - base.radius).abs() < 1e-3);
        assert!((back.yaw - base.yaw).abs() < 1e-4);
    }
}
