//! Locked down for the public: the window's close button, Alt-F4 and Esc do not quit; the
//! pointer is hidden until a mouse moves. One chord (Ctrl + Alt + Shift + Q) and SIGTERM quit
//! with exit code 0; anything that goes wrong quits with a non-zero code, for the supervisor
//! (systemd, docs/kiosk.md) to start it again.

use crate::viewer::ViewerState;
use crate::viewer::loading::{Collection, LoadFailure, ViewerAssets};
use bevy::prelude::*;
use bevy::window::{CursorMoved, CursorOptions, PrimaryWindow, WindowCloseRequested};
#[cfg(not(target_arch = "wasm32"))]
use std::sync::atomic::Ordering;
use std::sync::{Arc, atomic::AtomicBool};

/// Seconds the pointer stays visible after the mouse last moved.
const POINTER_SECONDS: f32 = 3.0;

/// Set (by a signal handler) when the kiosk is asked to stop.
#[derive(Resource, Clone, Default)]
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub struct StopRequested(pub Arc<AtomicBool>);

pub struct LockdownPlugin;

impl Plugin for LockdownPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<StopRequested>()
            .add_systems(Startup, hide_pointer)
            .add_systems(OnEnter(ViewerState::Failed), exit_with_failure)
            .add_systems(Update, (refuse_to_close, show_pointer_while_moving))
            .add_systems(Update, exit_when_atlases_fail.run_if(in_state(ViewerState::Exploring)));
        // In a browser the kiosk ends with the browser (Chromium's --kiosk), not with a chord.
        #[cfg(not(target_arch = "wasm32"))]
        app.add_systems(Update, exit_on_chord_or_signal);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn exit_on_chord_or_signal(
    keys: Res<ButtonInput<KeyCode>>,
    stop: Res<StopRequested>,
    mut exit: MessageWriter<AppExit>,
) {
    let held = |left: KeyCode, right: KeyCode| keys.pressed(left) || keys.pressed(right);
    let chord = held(KeyCode::ControlLeft, KeyCode::ControlRight)
        && held(KeyCode::AltLeft, KeyCode::AltRight)
        && held(KeyCode::ShiftLeft, KeyCode::ShiftRight)
        && keys.just_pressed(KeyCode::KeyQ);
    if chord || stop.0.load(Ordering::Relaxed) {
        info!("kiosk: stopping ({})", if chord { "exit chord" } else { "asked to terminate" });
        exit.write(AppExit::Success);
    }
}

/// The window stays open (the window plugin is told not to close it); say so in the log.
fn refuse_to_close(mut requests: MessageReader<WindowCloseRequested>) {
    for _ in requests.read() {
        info!("kiosk: the window was asked to close; it stays (Ctrl + Alt + Shift + Q or SIGTERM quits)");
    }
}

fn hide_pointer(mut cursor: Single<&mut CursorOptions, With<PrimaryWindow>>) {
    cursor.visible = false;
}

fn show_pointer_while_moving(
    time: Res<Time<Real>>,
    mut moves: MessageReader<CursorMoved>,
    mut cursor: Single<&mut CursorOptions, With<PrimaryWindow>>,
    mut last_move: Local<Option<f32>>,
) {
    let now = time.elapsed_secs();
    if moves.read().any(|m| m.delta.is_some_and(|d| d.length() > 0.5)) {
        *last_move = Some(now);
    }
    let visible = last_move.is_some_and(|t| now - t < POINTER_SECONDS);
    if cursor.visible != visible {
        cursor.visible = visible;
    }
}

fn exit_with_failure(failure: Res<LoadFailure>, mut exit: MessageWriter<AppExit>) {
    error!("kiosk: cannot show the bundle: {}", failure.0);
    exit.write(AppExit::error());
}

fn exit_when_atlases_fail(
    collection: Res<Collection>,
    assets: ViewerAssets,
    mut exit: MessageWriter<AppExit>,
) {
    if let Err(message) = assets.atlases_loaded(&collection) {
        error!("kiosk: {message}");
        exit.write(AppExit::error());
    }
}
