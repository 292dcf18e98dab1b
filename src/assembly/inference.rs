//! Inference: the network's auto-tags join the images (and the search) as they are computed.

use super::worker::{Report, Reported};
use super::{AssemblySystems, Live};
use bevy::prelude::*;
use std::collections::HashMap;

pub struct InferencePlugin;

impl Plugin for InferencePlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            PreUpdate,
            add_tags.in_set(AssemblySystems::Integrate).after(super::ingestion::add_images),
        );
    }
}

/// `waiting`: tags of images the network finished before their thumbnails were reported.
pub(super) fn add_tags(
    mut reported: MessageReader<Reported>,
    mut live: ResMut<Live>,
    mut waiting: Local<HashMap<String, Vec<(u32, f32)>>>,
) {
    for Reported(report) in reported.read() {
        match &**report {
            Report::Network { classes } => live.classes = classes.clone(),
            Report::Embedded { hash, top_classes } => {
                waiting.insert(hash.clone(), top_classes.clone());
            }
            _ => {}
        }
    }
    if waiting.is_empty() || live.finished.is_some() {
        return;
    }
    let mut tagged = false;
    waiting.retain(|hash, classes| {
        let Some(id) = live.id_of(hash) else { return true };
        // As the bundle stores them: three decimals.
        live.images[id as usize].auto_tags =
            classes.iter().map(|&(class, p)| (class, (p * 1000.0).round() / 1000.0)).collect();
        tagged = true;
        false
    });
    live.changed |= tagged;
}
