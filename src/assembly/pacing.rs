//! While a folder assembles, the window is drawn when something changes, not continuously.
//!
//! Between showings of the growing collection (at most every [`PRESENT_EVERY`]) nothing on screen
//! moves unless the visitor does something, and every frame drawn takes time from the build (on
//! a machine without a GPU, the CPU draws it). So while assembling, frames come on input, while
//! the camera or a change of layout is in motion, for a few frames after each showing, and
//! otherwise when the app wakes to take in the build's reports. Once the bundle is done, the
//! viewer's continuous frames return.

use super::{Live, PRESENT_EVERY};
use crate::viewer::rendering::LayoutTransition;
use bevy::prelude::*;
use bevy::window::RequestRedraw;
use bevy::winit::{UpdateMode, WinitSettings};

/// Frames drawn straight after the collection is shown anew: its meshes and pages reach the GPU.
const AFTER_SHOWING: u8 = 1;

/// Whether the last frame asked for the next at once (so this frame's time is its own, not a
/// wait for something to happen).
#[derive(Resource, Default)]
pub struct Pacing {
    pub back_to_back: bool,
}

/// How often frames come: on demand while assembling, continuous once done. (Without a window,
/// as in the headless tests, there is nothing to pace.)
pub fn pace_frames(
    live: Res<Live>,
    settings: Option<ResMut<WinitSettings>>,
    transition: Option<Res<LayoutTransition>>,
    cameras: Query<&GlobalTransform, With<Camera>>,
    mut state: Local<(Vec<GlobalTransform>, u64, u8)>,
    mut pacing: ResMut<Pacing>,
    redraw: Option<ResMut<Messages<RequestRedraw>>>,
) {
    let (Some(mut settings), Some(mut redraw)) = (settings, redraw) else { return };
    let assembling = live.finished.is_none();
    let wanted = if assembling {
        WinitSettings {
            focused_mode: UpdateMode::reactive(PRESENT_EVERY),
            unfocused_mode: UpdateMode::reactive_low_power(PRESENT_EVERY),
        }
    } else {
        WinitSettings::game()
    };
    if settings.focused_mode != wanted.focused_mode || settings.unfocused_mode != wanted.unfocused_mode {
        *settings = wanted;
    }
    let (last_cameras, last_generation, after_showing) = &mut *state;
    let now: Vec<GlobalTransform> = cameras.iter().copied().collect();
    let moving = now != *last_cameras;
    *last_cameras = now;
    if live.generation != *last_generation {
        *last_generation = live.generation;
        *after_showing = AFTER_SHOWING;
    }
    let animating = transition.is_some_and(|t| t.progress < 1.0);
    let again = !assembling || moving || animating || *after_showing > 0;
    *after_showing = after_showing.saturating_sub(1);
    if again && assembling {
        redraw.write(RequestRedraw);
    }
    pacing.back_to_back = again;
}
