//! The kiosk's modes and lock-down without a GPU (`MinimalPlugins`, a window that is never
//! opened, time stepped by hand): touches, idle, the countdown, the reset, the close button,
//! the exit chord and SIGTERM.

use super::lockdown::StopRequested;
use super::{Kiosk, KioskMode, KioskPlugin};
use crate::viewer::camera::FlyMode;
use crate::viewer::loading::{AtlasTextureBytes, Collection, InitialLayout};
use crate::viewer::rendering::{LayoutTransition, ShowLayout};
use crate::viewer::ui::Filters;
use crate::viewer::{Selection, ViewSettings, ViewerState};
use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput, NativeKey};
use bevy::input::touch::{TouchInput, TouchPhase};
use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use bevy::window::{ExitCondition, PrimaryWindow, WindowCloseRequested};
use bevy_panorbit_camera::PanOrbitCamera;
use pixfly_core::bundle::Bundle;
use std::sync::Arc;
use std::time::Duration;

/// Twelve images in a 4 × 3 grid, in two hotspots.
fn collection() -> Collection {
    let images: Vec<_> = (0..12u32)
        .map(|id| {
            serde_json::json!({"id": id, "filename": format!("{id}.jpg"), "thumb": format!("thumbs/{id}.jpg"),
                "width": 10, "height": 10, "atlas": 0, "rect": [0, 0, 10, 10], "hash": "00"})
        })
        .collect();
    let manifest = serde_json::from_value(serde_json::json!({
        "format": "pixfly-bundle", "version": 1, "generator": "test", "image_count": 12, "cell_size": 64,
        "thumb_size": 256, "atlases": [], "images": images,
        "layouts": [{"name": "grid", "title": "Grid", "dims": 2, "path": "layouts/grid.f32"}],
        "clusters": [{"name": "left", "representative": 0, "members": [0, 1, 4, 5, 8, 9]},
                     {"name": "right", "representative": 2, "members": [2, 3, 6, 7, 10, 11]}],
    }))
    .unwrap();
    let positions = (0..12).map(|i| [(i % 4) as f32 / 1.5 - 1.0, (i / 4) as f32 - 1.0, 0.0]).collect();
    let bundle = Bundle { manifest, positions: vec![positions], neighbours: Vec::new() };
    Collection::from_bundle(Arc::new(bundle), Vec::new(), 0, 12)
}

/// The kiosk over a collection, one second per update, its window locked as `pixfly kiosk` has it.
fn kiosk_app(idle_seconds: f32) -> App {
    let mut app = App::new();
    let window =
        WindowPlugin { close_when_requested: false, exit_condition: ExitCondition::DontExit, ..default() };
    app.add_plugins((MinimalPlugins, bevy::state::app::StatesPlugin, bevy::input::InputPlugin, window))
        .add_plugins(AssetPlugin::default())
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs(1)))
        .init_state::<ViewerState>()
        .init_resource::<ViewSettings>()
        .init_resource::<Selection>()
        .init_resource::<Filters>()
        .init_resource::<FlyMode>()
        .init_resource::<InitialLayout>()
        .init_resource::<AtlasTextureBytes>()
        .init_resource::<crate::viewer::ui::Thumbnails>()
        .add_message::<ShowLayout>()
        .add_message::<crate::viewer::camera::FrameAll>()
        .add_message::<crate::viewer::camera::FlyTo>();
    let collection = collection();
    app.insert_resource(LayoutTransition::at(&collection, 0)).insert_resource(collection);
    app.world_mut().spawn((PanOrbitCamera::default(), Transform::default()));
    app.add_plugins(KioskPlugin { tour: None, idle_seconds });
    app.world_mut().resource_mut::<Time<Virtual>>().set_max_delta(Duration::from_secs(2));
    app.update();
    app.world_mut().resource_mut::<NextState<ViewerState>>().set(ViewerState::Exploring);
    app.update();
    app
}

fn mode(app: &App) -> KioskMode {
    *app.world().resource::<State<KioskMode>>().get()
}

fn window(app: &mut App) -> Entity {
    app.world_mut().query_filtered::<Entity, With<PrimaryWindow>>().single(app.world()).unwrap()
}

fn tap(app: &mut App) {
    let window = window(app);
    for phase in [TouchPhase::Started, TouchPhase::Ended] {
        app.world_mut().write_message(TouchInput {
            phase,
            position: Vec2::new(50.0, 50.0),
            window,
            force: None,
            id: 1,
        });
        app.update();
    }
}

fn run_for(app: &mut App, seconds: u32) {
    for _ in 0..seconds {
        app.update();
    }
}

#[test]
fn a_touch_hands_over_and_idle_returns_to_the_tour_through_the_countdown() {
    let mut app = kiosk_app(30.0);
    assert_eq!(mode(&app), KioskMode::Attract);
    let focus = |app: &App| {
        app.world().iter_entities().find_map(|e| e.get::<PanOrbitCamera>().map(|c| c.focus)).unwrap()
    };
    // The tour moves the camera on its own: from the whole view to the first hotspot.
    let before = focus(&app);
    run_for(&mut app, 20);
    assert!(focus(&app).distance(before) > 0.1, "the attract tour did not move: {before} → {}", focus(&app));

    tap(&mut app);
    assert_eq!(mode(&app), KioskMode::Exploring);
    app.world_mut().resource_mut::<Selection>().selected = Some(3);
    // Where the visitor left the camera, it stays.
    let left_at = focus(&app);
    run_for(&mut app, 25);
    assert_eq!((mode(&app), focus(&app)), (KioskMode::Exploring, left_at));
    run_for(&mut app, 7);
    assert_eq!(mode(&app), KioskMode::Countdown);
    // A touch during the countdown keeps the visitor's screen as it was.
    tap(&mut app);
    assert_eq!(mode(&app), KioskMode::Exploring);
    assert_eq!(app.world().resource::<Selection>().selected, Some(3));
    // Nobody answers: the reset, and the tour again.
    run_for(&mut app, 31);
    assert_eq!(mode(&app), KioskMode::Countdown);
    run_for(&mut app, 11);
    assert_eq!(mode(&app), KioskMode::Attract);
    assert_eq!(app.world().resource::<Kiosk>().resets, 1);
    assert_eq!(app.world().resource::<Selection>().selected, None);
    assert!(app.should_exit().is_none());
}

/// Held together, these quit the kiosk (docs/kiosk.md).
const EXIT_CHORD: [KeyCode; 4] = [KeyCode::ControlLeft, KeyCode::AltLeft, KeyCode::ShiftLeft, KeyCode::KeyQ];

fn press(app: &mut App, keys: &[KeyCode], state: ButtonState) {
    let window = window(app);
    for &key_code in keys {
        let logical_key = Key::Unidentified(NativeKey::Unidentified);
        app.world_mut().write_message(KeyboardInput {
            key_code,
            logical_key,
            state,
            text: None,
            repeat: false,
            window,
        });
    }
    app.update();
}

#[test]
fn the_close_button_and_escape_do_not_quit_but_the_chord_does() {
    let mut app = kiosk_app(60.0);
    let window = window(&mut app);
    app.world_mut().write_message(WindowCloseRequested { window });
    press(&mut app, &[KeyCode::Escape], ButtonState::Pressed);
    press(&mut app, &[KeyCode::AltLeft, KeyCode::F4], ButtonState::Pressed);
    run_for(&mut app, 3);
    assert!(app.should_exit().is_none(), "the kiosk quit");
    assert!(app.world().get_entity(window).is_ok(), "the window closed");
    // Three of the chord's four keys do nothing either.
    press(&mut app, &[KeyCode::AltLeft, KeyCode::F4], ButtonState::Released);
    press(&mut app, &EXIT_CHORD[..3], ButtonState::Pressed);
    assert!(app.should_exit().is_none());
    press(&mut app, &EXIT_CHORD[3..], ButtonState::Pressed);
    assert_eq!(app.should_exit(), Some(AppExit::Success));
}

#[test]
fn sigterm_quits_with_success() {
    let mut app = kiosk_app(60.0);
    run_for(&mut app, 2);
    assert!(app.should_exit().is_none());
    let stop = app.world().resource::<StopRequested>().clone();
    stop.0.store(true, std::sync::atomic::Ordering::Relaxed);
    app.update();
    assert_eq!(app.should_exit(), Some(AppExit::Success));
}
