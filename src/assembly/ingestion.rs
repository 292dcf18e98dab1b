//! Ingestion: every image read goes into an atlas page and the next place of the arrival grid.

use super::worker::{Report, Reported};
use super::{AssemblySystems, Live};
use bevy::prelude::*;
use pixfly_core::bundle::ImageRecord;

pub struct IngestionPlugin;

impl Plugin for IngestionPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<Reported>().add_systems(PreUpdate, add_images.in_set(AssemblySystems::Integrate));
    }
}

pub(super) fn add_images(mut reported: MessageReader<Reported>, mut live: ResMut<Live>) {
    for Reported(report) in reported.read() {
        match &**report {
            Report::Found(count) => {
                live.found = *count;
                live.changed = true;
            }
            Report::Read { hash, filename, image, thumb, cell } => {
                if live.id_of(hash).is_some() || live.finished.is_some() {
                    continue;
                }
                let id = live.images.len() as u32;
                let (atlas, rect) = live.paint(id, cell);
                live.images.push(ImageRecord {
                    id,
                    filename: filename.clone(),
                    thumb: thumb.clone(),
                    width: image.width,
                    height: image.height,
                    atlas,
                    rect,
                    hash: hash.clone(),
                    metadata: Default::default(),
                    auto_tags: Vec::new(),
                });
                live.by_hash.insert(hash.clone(), id);
                live.changed = true;
            }
            _ => {}
        }
    }
}
