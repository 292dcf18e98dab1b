//! While a folder assembles, frames are drawn as the visitor needs them, and otherwise within a
//! small share of the machine.
//!
//! Every frame drawn takes time from the build (on a machine without a GPU, the CPU draws it).
//! So while assembling, the visitor's input (and the second or two after it, while the camera
//! eases) gets frames back to back, as in the viewer. Everything else on screen — new images
//! shown, the UMAP cloud settling, the camera keeping the collection in view — is drawn at a
//! pace that keeps those frames within [`UNASKED_SHARE`] of the machine's CPU time: each comes
//! a measured frame's cost divided by that share after the one before, and no more often than
//! needed. Once the bundle is done, the viewer's continuous frames return.

use super::{Live, PRESENT_EVERY};
use crate::viewer::rendering::LayoutTransition;
use bevy::input::mouse::{AccumulatedMouseMotion, MouseWheel};
use bevy::prelude::*;
use bevy::window::RequestRedraw;
use bevy::winit::{UpdateMode, WinitSettings};
use std::time::{Duration, Instant};

/// Of the machine's CPU time (all its cores), what frames nobody asked for may take while a
/// build runs. On 2 cores drawing on the CPU (30 ms a frame) that is one every 0.5 s; with a
/// GPU and 16 cores, about 30 a second.
const UNASKED_SHARE: f32 = 0.03;

/// The longest wait between frames while assembling: what the build reports waits no longer.
const LONGEST_WAIT: Duration = Duration::from_secs(1);

/// After the visitor's last input, frames stay back to back this long (the camera eases out).
const VISITOR_GRACE: Duration = Duration::from_secs(2);

/// Frames drawn straight after others are measured at least this often (their time is what a
/// frame costs), so the pace follows the collection as it grows.
const MEASURE_EVERY: Duration = Duration::from_secs(4);

/// The pace is changed only when it should change by more than this fraction (each change
/// draws a frame at once).
const PACE_TOLERANCE: f32 = 0.25;

/// How frames are going.
#[derive(Resource)]
pub struct Pacing {
    /// Whether the next frame comes straight after this one (so its time is its own, not a
    /// wait for something to happen).
    back_to_back: bool,
    /// How many frames in a row came straight after the one before.
    streak: u32,
    /// The time of the last frame, seconds, when it was timed whole (see [`pace_frames`]).
    pub measured: Option<f32>,
    /// What a frame costs, seconds: a running mean of frames drawn back to back.
    cost: f32,
    /// When the last frame ended. (Not `Time`'s delta: with pipelined rendering, that is the
    /// time between two frames' renders, one frame late.)
    last_frame: Option<Instant>,
    last_measured: Duration,
    last_input: Option<Duration>,
    /// The machine's cores (asking costs a look at the process's CPU affinity and cgroup).
    cores: usize,
    /// The collection last drawn.
    shown_generation: u64,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            back_to_back: true,
            streak: 0,
            measured: None,
            cost: 1.0 / 60.0,
            last_frame: None,
            last_measured: Duration::ZERO,
            last_input: None,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            shown_generation: 0,
        }
    }
}

/// How long to wait between frames nobody asked for, each costing `cost` seconds on a machine of
/// `cores`, so that they take [`UNASKED_SHARE`] of it.
fn unasked_wait(cost: f32, cores: usize) -> Duration {
    let share = (UNASKED_SHARE * cores as f32).min(1.0);
    Duration::from_secs_f32((cost / share).clamp(1.0 / 120.0, LONGEST_WAIT.as_secs_f32()))
}

/// Whether the visitor did anything this frame.
#[derive(bevy::ecs::system::SystemParam)]
pub struct Input<'w, 's> {
    buttons: Res<'w, ButtonInput<MouseButton>>,
    keys: Res<'w, ButtonInput<KeyCode>>,
    motion: Res<'w, AccumulatedMouseMotion>,
    wheel: MessageReader<'w, 's, MouseWheel>,
    touches: Res<'w, Touches>,
}

impl Input<'_, '_> {
    fn any(&mut self) -> bool {
        let wheel = self.wheel.read().next().is_some();
        wheel
            || self.buttons.get_pressed().next().is_some()
            || self.keys.get_pressed().next().is_some()
            || self.motion.delta != Vec2::ZERO
            || self.touches.iter().next().is_some()
    }
}

/// How often frames come: paced while assembling, continuous once done. (Without a window, as
/// in the headless tests, there is nothing to pace.)
#[allow(clippy::too_many_arguments)]
pub fn pace_frames(
    live: Res<Live>,
    settings: Option<ResMut<WinitSettings>>,
    transition: Option<Res<LayoutTransition>>,
    cameras: Query<&GlobalTransform, With<Camera>>,
    mut input: Input,
    time: Res<Time<Real>>,
    mut pacing: ResMut<Pacing>,
    mut last_cameras: Local<Vec<GlobalTransform>>,
    redraw: Option<ResMut<Messages<RequestRedraw>>>,
) {
    let (Some(mut settings), Some(mut redraw)) = (settings, redraw) else { return };
    let now = time.elapsed();
    let frame_ended = Instant::now();
    let took = pacing.last_frame.map(|t| (frame_ended - t).as_secs_f32());
    pacing.last_frame = Some(frame_ended);
    pacing.streak = if pacing.back_to_back { pacing.streak + 1 } else { 0 };
    // With pipelined rendering the first frame after a wait ends before the render thread has
    // drawn the one before it (its time is only the main thread's part): the second is whole.
    pacing.measured = took.filter(|_| pacing.streak >= 2);
    if let Some(took) = pacing.measured {
        // A slow frame (a new page uploaded) counts, but one does not decide the pace.
        pacing.cost += (took.min(LONGEST_WAIT.as_secs_f32()) - pacing.cost) * 0.2;
        pacing.last_measured = now;
    }
    let touched = input.any();
    if touched {
        pacing.last_input = Some(now);
    }
    if live.finished.is_some() {
        if settings.focused_mode != UpdateMode::Continuous {
            *settings = WinitSettings::game();
        }
        pacing.back_to_back = true;
        return;
    }
    let visitor = pacing.last_input.is_some_and(|t| now - t < VISITOR_GRACE);
    let cameras_now: Vec<GlobalTransform> = cameras.iter().copied().collect();
    let camera_moved = cameras_now != *last_cameras;
    *last_cameras = cameras_now;
    let moving = camera_moved || transition.is_some_and(|t| t.progress < 1.0);
    let shown = live.generation != pacing.shown_generation;
    pacing.shown_generation = live.generation;
    // Asked for until a frame is timed whole.
    let measure = now - pacing.last_measured > MEASURE_EVERY;
    // Soon while something moves or was just shown; else when the build's reports are due.
    let unasked = unasked_wait(pacing.cost, pacing.cores);
    let wait = if moving || shown { unasked } else { unasked.max(PRESENT_EVERY) };
    let current = match settings.focused_mode {
        UpdateMode::Reactive { wait, .. } => Some(wait),
        UpdateMode::Continuous => None,
    };
    let off = current.is_none_or(|c| (c.as_secs_f32() / wait.as_secs_f32() - 1.0).abs() > PACE_TOLERANCE);
    if off {
        // The same when the window is not focused: an unfocused window is still watched (a
        // screen on the wall), and a low-power mode would not draw the frames asked for.
        *settings = WinitSettings {
            focused_mode: UpdateMode::reactive(wait),
            unfocused_mode: UpdateMode::reactive(wait),
        };
    }
    // A change of pace draws the next frame at once (winit's runner does), as does asking.
    let again = visitor && (moving || shown) || touched || measure;
    // Winit's runner reads these requests from both of the messages' buffers, so one written
    // last frame would draw a second frame; egui's own requests are overridden by the pace.
    redraw.clear();
    if again {
        redraw.write(RequestRedraw);
    }
    debug!(
        "frame {:.3}s after the last{} moving {moving} shown {shown} wait {wait:?} again {again} off {off} cost {:.3}",
        took.unwrap_or(0.0),
        if pacing.back_to_back { " (back to back)" } else { "" },
        pacing.cost
    );
    pacing.back_to_back = again || off;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_nobody_asked_for_keep_to_their_share_of_the_machine() {
        for cores in [1, 2, 4, 16, 64] {
            for cost in [0.002, 0.016, 0.03, 0.2, 5.0] {
                let wait = unasked_wait(cost, cores).as_secs_f32();
                assert!(wait <= LONGEST_WAIT.as_secs_f32(), "{cost} s on {cores} cores: waits {wait} s");
                if wait < LONGEST_WAIT.as_secs_f32() && wait > 1.0 / 120.0 {
                    // One core's frames, as a share of all the machine's time.
                    let share = cost / wait / cores as f32;
                    assert!(
                        (share - UNASKED_SHARE).abs() < 1e-4 || cores as f32 * UNASKED_SHARE > 1.0,
                        "{share}"
                    );
                }
            }
        }
        // Drawing on the CPU of a 2-core machine: a frame every half second.
        assert!((unasked_wait(0.03, 2).as_secs_f32() - 0.5).abs() < 1e-3);
    }
}
