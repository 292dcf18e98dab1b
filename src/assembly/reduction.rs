//! Reduction: UMAP's running layout, shown as it settles; then the bundle's layouts, hotspots
//! and neighbours, renumbered in the order the images arrived.

use super::worker::{Report, Reported};
use super::{AssemblySystems, Finished, Live};
use bevy::prelude::*;
use pixfly_core::bundle::{Bundle, ImageRecord};

pub struct ReductionPlugin;

impl Plugin for ReductionPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            PreUpdate,
            settle.in_set(AssemblySystems::Integrate).after(super::inference::add_tags),
        );
    }
}

fn settle(mut reported: MessageReader<Reported>, mut live: ResMut<Live>) {
    for Reported(report) in reported.read() {
        match &**report {
            Report::Epoch { dims, positions, .. } => {
                let name = format!("umap{dims}d");
                if positions.len() != live.images.len() {
                    continue; // an image was not shown (its cell could not be read)
                }
                match live.settling.iter_mut().find(|layout| layout.0 == name) {
                    Some(layout) => layout.3 = positions.clone(),
                    None => {
                        let title = format!("UMAP {dims}D (settling)");
                        live.settling.push((name.clone(), title, *dims as u8, positions.clone()));
                        live.show = Some(name);
                    }
                }
                live.changed = true;
            }
            Report::Finished(Ok(built)) => match renumber(&live, &built.1) {
                Ok((finished, records)) => {
                    for (id, record) in records {
                        let image = &mut live.images[id];
                        image.metadata = record.metadata;
                        image.auto_tags = record.auto_tags;
                    }
                    live.show = finished.layouts.first().map(|l| l.name.clone());
                    live.finished = Some(finished);
                    live.changed = true;
                }
                Err(e) => error!("cannot show the finished bundle: {e}"),
            },
            _ => {}
        }
    }
}

/// The bundle's layouts, hotspots and neighbours with the ids the images have here (the order
/// they arrived in), and the images' metadata and tags as the bundle has them.
fn renumber(live: &Live, bundle: &Bundle) -> Result<(Finished, Vec<(usize, ImageRecord)>), String> {
    let manifest = &bundle.manifest;
    if manifest.images.len() != live.images.len() {
        return Err(format!(
            "the bundle has {} images, {} were shown",
            manifest.images.len(),
            live.images.len()
        ));
    }
    let here: Vec<usize> = manifest
        .images
        .iter()
        .map(|record| {
            live.id_of(&record.hash)
                .map(|id| id as usize)
                .ok_or_else(|| format!("{} was not shown while the bundle assembled", record.filename))
        })
        .collect::<Result<_, _>>()?;
    let positions = bundle
        .positions
        .iter()
        .map(|places| {
            let mut moved = vec![[0.0; 3]; places.len()];
            for (id, place) in places.iter().enumerate() {
                moved[here[id]] = *place;
            }
            moved
        })
        .collect();
    let clusters = manifest
        .clusters
        .iter()
        .map(|cluster| {
            let mut cluster = cluster.clone();
            cluster.representative = here[cluster.representative as usize] as u32;
            for member in &mut cluster.members {
                *member = here[*member as usize] as u32;
            }
            cluster
        })
        .collect();
    let neighbours = manifest.neighbours.as_ref().map(|info| {
        let k = info.k as usize;
        let mut ids = vec![0; bundle.neighbours.len()];
        for (id, row) in bundle.neighbours.chunks_exact(k.max(1)).enumerate() {
            for (j, &other) in row.iter().enumerate() {
                ids[here[id] * k + j] = here[other as usize] as u32;
            }
        }
        (info.clone(), ids)
    });
    let records = manifest.images.iter().zip(&here).map(|(record, &id)| (id, record.clone())).collect();
    let finished = Finished {
        layouts: manifest.layouts.clone(),
        positions,
        clusters,
        embedding: manifest.embedding.clone(),
        neighbours,
    };
    Ok((finished, records))
}
