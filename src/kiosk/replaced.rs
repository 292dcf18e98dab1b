//! A curator's update: the bundle (or its tour or names) replaced on disk while the kiosk runs
//! is taken up at the next reset, once the new bundle reads whole: the kiosk quits and its
//! command starts it again on the new one. (The desktop kiosk; the web page reloads.)

use super::{Kiosk, KioskMode};
use bevy::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

/// Set when the kiosk quits to start again on a bundle that was replaced.
#[derive(Resource, Clone, Default)]
pub struct Restart(pub Arc<AtomicBool>);

/// The bundle's own files as they were when the kiosk started.
#[derive(Resource)]
pub struct BundleStamp {
    folder: PathBuf,
    stamp: Vec<Option<(u64, SystemTime)>>,
}

fn stamp_of(folder: &Path) -> Vec<Option<(u64, SystemTime)>> {
    [pixfly_core::bundle::MANIFEST_FILE, pixfly_core::tour::TOUR_FILE, pixfly_core::names::NAMES_FILE]
        .iter()
        .map(|name| {
            std::fs::metadata(folder.join(name)).ok().and_then(|m| Some((m.len(), m.modified().ok()?)))
        })
        .collect()
}

impl BundleStamp {
    pub fn of(folder: &Path) -> BundleStamp {
        BundleStamp { folder: folder.to_path_buf(), stamp: stamp_of(folder) }
    }

    /// Whether the bundle changed and its new version can be shown (half-copied, it cannot yet).
    fn replaced(&self) -> bool {
        stamp_of(&self.folder) != self.stamp
            && pixfly_core::bundle::Bundle::open(&self.folder).is_ok()
            && crate::commands::kiosk::read_tour(None, &self.folder).is_ok()
    }
}

pub struct ReplacedPlugin;

impl Plugin for ReplacedPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(OnEnter(KioskMode::Attract), restart_when_replaced);
    }
}

/// At a reset (attract mode entered again), a replaced bundle is taken up.
fn restart_when_replaced(
    kiosk: Res<Kiosk>,
    watch: Option<Res<BundleStamp>>,
    restart: Option<Res<Restart>>,
    mut exit: MessageWriter<AppExit>,
) {
    if let (Some(stamp), Some(restart)) = (watch, restart)
        && kiosk.resets > 0
        && stamp.replaced()
    {
        info!("kiosk: the bundle was replaced on disk; starting again to show it");
        restart.0.store(true, Ordering::Relaxed);
        exit.write(AppExit::Success);
    }
}
