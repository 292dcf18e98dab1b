//! Camera: orbit, pan and zoom (bevy_panorbit_camera: mouse and touch), fly with the keyboard
//! (and, in fly mode, look around with the mouse), and smooth "fly to" an image, a group or the
//! whole layout.

use super::loading::{Collection, InitialLayout};
use super::rendering::{LayoutTransition, ShowLayout};
use super::{ViewSettings, ViewerState};
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::input::mouse::AccumulatedMouseMotion;
use bevy::prelude::*;
use bevy::render::view::Msaa;
use bevy_egui::EguiContexts;
use bevy_panorbit_camera::{PanOrbitCamera, PanOrbitCameraPlugin, TouchControls};

/// Vertical field of view, radians.
const FOV: f32 = std::f32::consts::FRAC_PI_4;

/// Fly the camera to look at `focus` from `distance` away.
#[derive(Message, Clone, Copy)]
pub struct FlyTo {
    pub focus: Vec3,
    pub distance: f32,
}

/// Frame the whole current layout (animated), e.g. after "reset view".
#[derive(Message, Clone, Copy)]
pub struct FrameAll;

/// Fly mode (G): dragging turns the view where the camera is, W/S fly along the view, Q/E down
/// and up. Otherwise dragging orbits or pans and the keys glide across the view.
#[derive(Resource, Default)]
pub struct FlyMode(pub bool);

/// Radians the view turns per pixel of mouse movement in fly mode.
const LOOK_SENSITIVITY: f32 = 0.004;

/// Fly mode's speed: this many times the distance to the nearest image, per second (at least an
/// image's size), so the camera slows down as it comes up to images and never jumps through them.
const FLY_SPEED: f32 = 1.5;

pub struct CameraPlugin;

impl Plugin for CameraPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins(PanOrbitCameraPlugin)
            .init_resource::<FlyMode>()
            .add_message::<FlyTo>()
            .add_message::<FrameAll>()
            .add_systems(Startup, spawn_camera)
            .add_systems(OnEnter(ViewerState::Exploring), jump_to_first_view)
            .add_systems(
                Update,
                (toggle_fly_mode, follow_layout_changes, frame_all, fly_to, look_around, fly_with_keyboard)
                    .chain()
                    .run_if(in_state(ViewerState::Exploring)),
            );
    }
}

fn spawn_camera(mut commands: Commands) {
    commands.spawn((
        Camera3d::default(),
        Projection::Perspective(PerspectiveProjection { fov: FOV, near: 0.05, ..default() }),
        // Show the images' own colours: no tone mapping, no HDR.
        Tonemapping::None,
        Msaa::Off,
        PanOrbitCamera { enabled: false, ..default() },
        Transform::from_xyz(0.0, 0.0, 10.0),
    ));
}

/// The box holding all but the outermost 1% of `points` on each side of each axis: a few
/// stray images far out should not shrink the collection to a speck. When the whole box is not
/// much larger (a grid, blocks by category), the whole box: then nothing is far out.
pub(crate) fn core_bounds(points: &[Vec3]) -> (Vec3, Vec3) {
    let trim = points.len() / 100;
    let mut min = Vec3::ZERO;
    let mut max = Vec3::ZERO;
    let mut values: Vec<f32> = Vec::with_capacity(points.len());
    for axis in 0..3 {
        values.clear();
        values.extend(points.iter().map(|p| p[axis]));
        values.sort_unstable_by(f32::total_cmp);
        let (lo, hi) = (values[0], values[values.len() - 1]);
        (min[axis], max[axis]) = (values[trim], values[values.len() - 1 - trim]);
        if hi - lo <= 1.5 * (max[axis] - min[axis]) {
            (min[axis], max[axis]) = (lo, hi);
        }
    }
    (min, max)
}

/// Where to look from to see `points` whole, images of `image_size` included, in a window of
/// `size` logical pixels whose left `covered` pixels are under a panel: focus, distance, yaw,
/// pitch.
pub(crate) fn framing(
    points: &[Vec3],
    image_size: f32,
    flat: bool,
    size: Vec2,
    covered: f32,
) -> (Vec3, f32, f32, f32) {
    if points.is_empty() {
        return (Vec3::ZERO, 10.0, 0.0, 0.0);
    }
    bounds_framing(core_bounds(points), image_size, flat, size, covered)
}

/// Where to look from to see the box `(min, max)` whole: as [`framing`].
fn bounds_framing(
    (min, max): (Vec3, Vec3),
    image_size: f32,
    flat: bool,
    size: Vec2,
    covered: f32,
) -> (Vec3, f32, f32, f32) {
    let centre = (min + max) / 2.0;
    let half = (max - min) / 2.0 + image_size * 0.6;
    let tan = (FOV / 2.0).tan();
    // The panel may not leave less than half the window.
    let covered = covered.min(size.x / 2.0);
    let aspect = (size.x - covered) / size.y.max(1.0);
    let (distance, yaw, pitch) = if flat {
        // Straight down onto the plane, fitting both width and height, with a margin.
        ((half.y / tan).max(half.x / (tan * aspect)) * 1.04, 0.0f32, 0.0)
    } else {
        // From a little above and to the side, far enough for a sphere around the core: clouds
        // of images are round rather than boxy, so the box's corners may fall outside.
        let radius = half.max_element() * 1.05;
        (radius / (tan * aspect.min(1.0)).atan().sin(), 0.45, 0.3)
    };
    // Centre the collection in the uncovered part: look at a point half a panel to its left.
    let world_per_pixel = 2.0 * distance * tan / size.y.max(1.0);
    let right = Vec3::new(yaw.cos(), 0.0, -yaw.sin());
    (centre - right * (covered / 2.0 * world_per_pixel), distance, yaw, pitch)
}

fn layout_framing(
    collection: &Collection,
    layout: usize,
    settings: &ViewSettings,
    window: &Window,
) -> (Vec3, f32, f32, f32) {
    let flat = collection.bundle.manifest.layouts[layout].dims == 2;
    let size = Vec2::new(window.width(), window.height());
    let (image_size, covered) = (settings.image_size, settings.covered_left());
    match collection.planned_bounds[layout] {
        // A layout still growing is framed whole from the start: the camera stays put as it fills.
        Some(bounds) => bounds_framing(bounds, image_size, flat, size, covered),
        None => framing(&collection.places[layout], image_size, flat, size, covered),
    }
}

/// Controls that suit the layout: a flat layout drags like a map (left button or one finger
/// pans), a three-dimensional one turns like a globe (left button or one finger orbits).
/// Pinching zooms either way. In fly mode the left button looks around instead.
fn set_controls(camera: &mut PanOrbitCamera, flat: bool, fly: &FlyMode) {
    (camera.button_orbit, camera.button_pan) = if fly.0 {
        (MouseButton::Right, MouseButton::Middle)
    } else if flat {
        (MouseButton::Right, MouseButton::Left)
    } else {
        (MouseButton::Left, MouseButton::Right)
    };
    camera.touch_controls = if flat { TouchControls::TwoFingerOrbit } else { TouchControls::OneFingerOrbit };
}

fn jump_to_first_view(
    collection: Res<Collection>,
    initial: Res<InitialLayout>,
    settings: Res<ViewSettings>,
    fly: Res<FlyMode>,
    window: Single<&Window>,
    mut camera: Single<&mut PanOrbitCamera>,
) {
    let (focus, distance, yaw, pitch) = layout_framing(&collection, initial.0, &settings, &window);
    // Set where the camera is and where it is headed alike, already initialised, so that a
    // "fly to" asked for in the same frame is not overwritten by the camera's own start-up.
    **camera = PanOrbitCamera {
        focus,
        radius: Some(distance),
        yaw: Some(yaw),
        pitch: Some(pitch),
        target_focus: focus,
        target_radius: distance,
        target_yaw: yaw,
        target_pitch: pitch,
        zoom_lower_limit: 0.5,
        initialized: true,
        force_update: true,
        ..default()
    };
    set_controls(&mut camera, collection.bundle.manifest.layouts[initial.0].dims == 2, &fly);
}

fn set_targets(camera: &mut PanOrbitCamera, (focus, distance, yaw, pitch): (Vec3, f32, f32, f32)) {
    camera.target_focus = focus;
    camera.target_radius = distance;
    camera.target_yaw = yaw;
    camera.target_pitch = pitch;
}

fn follow_layout_changes(
    mut changes: MessageReader<ShowLayout>,
    collection: Res<Collection>,
    settings: Res<ViewSettings>,
    fly: Res<FlyMode>,
    window: Single<&Window>,
    mut camera: Single<&mut PanOrbitCamera>,
) {
    let Some(&ShowLayout(layout)) = changes.read().last() else { return };
    if layout < collection.places.len() {
        set_targets(&mut camera, layout_framing(&collection, layout, &settings, &window));
        set_controls(&mut camera, collection.bundle.manifest.layouts[layout].dims == 2, &fly);
    }
}

fn toggle_fly_mode(
    keys: Res<ButtonInput<KeyCode>>,
    mut egui: EguiContexts,
    mut fly: ResMut<FlyMode>,
    collection: Res<Collection>,
    transition: Res<LayoutTransition>,
    mut camera: Single<&mut PanOrbitCamera>,
) {
    if keys.just_pressed(KeyCode::KeyG) && !egui.ctx_mut().is_ok_and(|ctx| ctx.egui_wants_keyboard_input()) {
        fly.0 = !fly.0;
        info!("fly mode {}", if fly.0 { "on" } else { "off" });
        set_controls(&mut camera, collection.bundle.manifest.layouts[transition.layout].dims == 2, &fly);
    }
}

/// Where panorbit puts the camera relative to its focus.
fn orbit_offset(yaw: f32, pitch: f32, radius: f32) -> Vec3 {
    Quat::from_rotation_y(yaw) * Quat::from_rotation_x(-pitch) * Vec3::new(0.0, 0.0, radius)
}

/// The focus, yaw and pitch that turn the view by `turn` (yaw, pitch) with the camera staying
/// where it is: the point looked at swings round the camera instead of the camera round it.
fn turn_in_place(focus: Vec3, radius: f32, yaw: f32, pitch: f32, turn: Vec2) -> (Vec3, f32, f32) {
    let eye = focus + orbit_offset(yaw, pitch, radius);
    let (yaw, pitch) = (yaw + turn.x, (pitch + turn.y).clamp(-1.5, 1.5));
    (eye - orbit_offset(yaw, pitch, radius), yaw, pitch)
}

/// In fly mode, dragging with the left button (off the panels) turns the view: right turns
/// right, up looks up.
fn look_around(
    fly: Res<FlyMode>,
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    mut egui: EguiContexts,
    mut camera: Single<&mut PanOrbitCamera>,
) {
    if !fly.0 || !buttons.pressed(MouseButton::Left) || motion.delta == Vec2::ZERO {
        return;
    }
    if egui.ctx_mut().is_ok_and(|ctx| ctx.egui_is_using_pointer() || ctx.is_pointer_over_egui()) {
        return;
    }
    let turn = Vec2::new(-motion.delta.x, motion.delta.y) * LOOK_SENSITIVITY;
    let (focus, yaw, pitch) = turn_in_place(
        camera.target_focus,
        camera.target_radius,
        camera.target_yaw,
        camera.target_pitch,
        turn,
    );
    camera.target_focus = focus;
    camera.target_yaw = yaw;
    camera.target_pitch = pitch;
}

fn frame_all(
    mut requests: MessageReader<FrameAll>,
    collection: Res<Collection>,
    transition: Res<LayoutTransition>,
    settings: Res<ViewSettings>,
    window: Single<&Window>,
    mut camera: Single<&mut PanOrbitCamera>,
) {
    if requests.read().last().is_some() {
        set_targets(&mut camera, layout_framing(&collection, transition.layout, &settings, &window));
    }
}

fn fly_to(mut requests: MessageReader<FlyTo>, mut camera: Single<&mut PanOrbitCamera>) {
    if let Some(request) = requests.read().last() {
        camera.target_focus = request.focus;
        camera.target_radius = request.distance.max(camera.zoom_lower_limit);
    }
}

/// WASD (or arrows) glide across the view, Q/E move in and out; the speed grows with the
/// distance, so crossing the collection and creeping up on one image both feel right. In fly
/// mode W/S fly along the view and Q/E down and up, the camera and the point it looks at together.
fn fly_with_keyboard(
    keys: Res<ButtonInput<KeyCode>>,
    time: Res<Time>,
    fly: Res<FlyMode>,
    collection: Res<Collection>,
    transition: Res<LayoutTransition>,
    settings: Res<ViewSettings>,
    mut egui: EguiContexts,
    camera: Single<(&mut PanOrbitCamera, &Transform)>,
) {
    if egui.ctx_mut().is_ok_and(|ctx| ctx.egui_wants_keyboard_input()) {
        return;
    }
    let (mut orbit, transform) = camera.into_inner();
    let held = |a: KeyCode, b: KeyCode| keys.pressed(a) || keys.pressed(b);
    let axis = |plus: bool, minus: bool| plus as i32 as f32 - minus as i32 as f32;
    let sideways = axis(held(KeyCode::KeyD, KeyCode::ArrowRight), held(KeyCode::KeyA, KeyCode::ArrowLeft));
    let upwards = axis(held(KeyCode::KeyW, KeyCode::ArrowUp), held(KeyCode::KeyS, KeyCode::ArrowDown));
    let inwards = axis(keys.pressed(KeyCode::KeyE), keys.pressed(KeyCode::KeyQ));
    if sideways == 0.0 && upwards == 0.0 && inwards == 0.0 {
        return;
    }
    let step = orbit.target_radius * time.delta_secs();
    if fly.0 {
        // Where the camera is headed (it eases behind its targets), and how far the nearest
        // image is from there: a scan of every image, only while a key is held.
        let eye =
            orbit.target_focus + orbit_offset(orbit.target_yaw, orbit.target_pitch, orbit.target_radius);
        let places = &collection.places[transition.layout];
        let nearest = places.iter().map(|p| p.distance_squared(eye)).fold(f32::INFINITY, f32::min).sqrt();
        // A slow frame must not become one long jump.
        let step = nearest.max(settings.image_size) * FLY_SPEED * time.delta_secs().min(0.1);
        let along = transform.forward() * upwards + transform.right() * sideways + transform.up() * inwards;
        orbit.target_focus += along * step;
        return;
    }
    let delta = (transform.right() * sideways + transform.up() * upwards) * step;
    orbit.target_focus += delta;
    orbit.target_radius =
        (orbit.target_radius * (1.0 - inwards * 1.5 * time.delta_secs())).max(orbit.zoom_lower_limit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turning_in_place_keeps_the_camera_where_it_is() {
        let (focus, radius, yaw, pitch) = (Vec3::new(3.0, -1.0, 2.0), 7.0, 0.4, 0.3);
        let eye = focus + orbit_offset(yaw, pitch, radius);
        let forward =
            |focus: Vec3, yaw, pitch| (focus - (focus + orbit_offset(yaw, pitch, radius))).normalize();
        // Mouse right and up: the view turns right (clockwise seen from above) and up.
        let (new_focus, new_yaw, new_pitch) = turn_in_place(focus, radius, yaw, pitch, Vec2::new(-0.2, -0.1));
        assert!((new_focus + orbit_offset(new_yaw, new_pitch, radius)).distance(eye) < 1e-4);
        let (before, after) = (forward(focus, yaw, pitch), forward(new_focus, new_yaw, new_pitch));
        assert!((before.angle_between(after) - 0.2236).abs() < 0.02, "{}", before.angle_between(after));
        assert!(before.cross(after).y < 0.0, "did not turn right");
        assert!(after.y > before.y, "did not look up");
        // Looking straight up or down stops short of the pole, where yaw would be lost.
        let (_, _, pitch) = turn_in_place(focus, radius, yaw, pitch, Vec2::new(0.0, 5.0));
        assert_eq!(pitch, 1.5);
    }

    #[test]
    fn a_few_far_outliers_do_not_decide_the_framing() {
        let mut points: Vec<Vec3> =
            (0..1000).map(|i| Vec3::new((i % 40) as f32, (i / 40) as f32, 0.0)).collect();
        points[0] = Vec3::new(5000.0, 0.0, 0.0);
        let (min, max) = core_bounds(&points);
        assert_eq!((min.x, max.x, max.y), (0.0, 39.0, 24.0));
    }

    #[test]
    fn a_grid_with_a_short_last_row_is_framed_whole() {
        // 40 × 25 full rows and 3 images in a 26th: none of them is an outlier to drop.
        let points: Vec<Vec3> =
            (0..1003).map(|i| Vec3::new((i % 40) as f32, -((i / 40) as f32), 0.0)).collect();
        let (min, max) = core_bounds(&points);
        assert_eq!((min.x, max.x, min.y, max.y), (0.0, 39.0, -25.0, 0.0));
    }

    #[test]
    fn a_flat_layout_is_seen_whole_from_straight_above() {
        let points = [Vec3::new(-50.0, -20.0, 0.0), Vec3::new(50.0, 20.0, 0.0)];
        let (focus, distance, yaw, pitch) = framing(&points, 2.0, true, Vec2::new(1600.0, 900.0), 0.0);
        assert_eq!((focus, yaw, pitch), (Vec3::ZERO, 0.0, 0.0));
        let visible_half_width = distance * (FOV / 2.0).tan() * 16.0 / 9.0;
        // The outer images' halves (1 unit) are in view too, with a small margin.
        assert!((51.0..56.0).contains(&visible_half_width), "{visible_half_width}");
    }

    #[test]
    fn a_panel_on_the_left_moves_the_view_beside_it() {
        let points = [Vec3::new(-50.0, -20.0, 0.0), Vec3::new(50.0, 20.0, 0.0)];
        let (width, height, panel) = (1600.0, 900.0, 400.0);
        let (focus, distance, _, _) = framing(&points, 2.0, true, Vec2::new(width, height), panel);
        // Where the collection's left and right edges (±51) land on screen, in pixels.
        let pixels_per_unit = height / (2.0 * distance * (FOV / 2.0).tan());
        let screen_x = |x: f32| width / 2.0 + (x - focus.x) * pixels_per_unit;
        assert!((panel..panel + 40.0).contains(&screen_x(-51.0)), "left edge at {}", screen_x(-51.0));
        assert!((width - 40.0..width).contains(&screen_x(51.0)), "right edge at {}", screen_x(51.0));
    }
}
