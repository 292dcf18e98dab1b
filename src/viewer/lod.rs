//! Level of detail: far away, images are drawn from their atlas cells; the ones the camera is
//! close to are drawn again, just in front, from their larger close-up thumbnails, streamed in
//! as needed under a texture budget, so a close look is sharp.

use super::loading::{BUNDLE_SOURCE, Collection};
use super::picking::{DrawnImage, ScreenProjection};
use super::rendering::{AtlasMaterial, AtlasQuads, Emphasis, LayoutTransition, QuadTexture, quads_mesh};
use super::{CollectionSystems, ViewSettings, ViewerState};
use bevy::camera::visibility::NoFrustumCulling;
use bevy::prelude::*;
use std::collections::HashMap;

/// Close-up thumbnails held at once: 256 at 256 px is 64 MiB of texture memory at most.
const CLOSE_UP_BUDGET: usize = 256;
/// An image gets its close-up once its atlas cell would be magnified this much on screen.
const MAGNIFIED: f32 = 1.25;
/// Close-ups are drawn this far (in image sizes) in front of the atlas quads.
const CLOSE_UP_LIFT: f32 = 0.004;

pub struct LevelOfDetailPlugin;

impl Plugin for LevelOfDetailPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<CloseUps>()
            .add_systems(
                PreUpdate,
                forget_close_ups.in_set(CollectionSystems::Follow).run_if(in_state(ViewerState::Exploring)),
            )
            .add_systems(Update, choose_close_ups.run_if(in_state(ViewerState::Exploring)));
    }
}

/// The images drawn from their close-up thumbnails now, and their quads; and the collection
/// they are placed for.
#[derive(Resource, Default)]
pub struct CloseUps(HashMap<u32, (Entity, Handle<Image>)>, u64);

impl CloseUps {
    /// The images drawn from their close-up thumbnails, in id order.
    pub fn images(&self) -> Vec<u32> {
        let mut images: Vec<u32> = self.0.keys().copied().collect();
        images.sort_unstable();
        images
    }

    /// Whether every close-up thumbnail has arrived (or failed: the atlas cell stays then).
    pub fn loaded(&self, assets: &AssetServer) -> bool {
        self.0
            .values()
            .all(|(_, texture)| assets.is_loaded(texture) || assets.load_state(texture).is_failed())
    }
}

/// A collection that grew moves images: their close-ups are made again where they now are.
fn forget_close_ups(mut commands: Commands, collection: Res<Collection>, mut close_ups: ResMut<CloseUps>) {
    if close_ups.1 == collection.generation {
        return;
    }
    for (_, (entity, _)) in close_ups.0.drain() {
        commands.entity(entity).despawn();
    }
    close_ups.1 = collection.generation;
}

/// The images that deserve a close-up from where the camera is: on screen and magnified,
/// largest first, at most the budget.
fn wanted_close_ups(
    projection: &ScreenProjection,
    collection: &Collection,
    transition: &LayoutTransition,
    image_size: f32,
) -> Vec<u32> {
    let images = &collection.bundle.manifest.images;
    let mut candidates: Vec<(f32, u32)> = projection
        .images(collection, transition, image_size)
        .filter_map(|DrawnImage { id, centre, half, .. }| {
            let on_screen =
                (centre + half).cmpge(Vec2::ZERO).all() && (centre - half).cmple(projection.viewport).all();
            // Screen pixels per atlas texel.
            let [_, _, w, h] = images[id].rect;
            let magnification = 2.0 * half.max_element() / w.max(h) as f32;
            (on_screen && magnification > MAGNIFIED).then_some((magnification, id as u32))
        })
        .collect();
    candidates.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    candidates.truncate(CLOSE_UP_BUDGET);
    candidates.into_iter().map(|(_, id)| id).collect()
}

fn choose_close_ups(
    mut commands: Commands,
    camera: Single<(&Camera, Ref<GlobalTransform>)>,
    collection: Res<Collection>,
    transition: Res<LayoutTransition>,
    settings: Res<ViewSettings>,
    emphasis: Res<Emphasis>,
    assets: Res<AssetServer>,
    mut close_ups: ResMut<CloseUps>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<AtlasMaterial>>,
) {
    let (camera, transform) = *camera;
    if !(transform.is_changed() || transition.is_changed() || settings.is_changed()) {
        return;
    }
    let Some(projection) = ScreenProjection::new(camera, &transform) else { return };
    let wanted = wanted_close_ups(&projection, &collection, &transition, settings.image_size);
    let keep: std::collections::HashSet<u32> = wanted.iter().copied().collect();
    close_ups.0.retain(|image, (entity, _)| {
        let kept = keep.contains(image);
        if !kept {
            commands.entity(*entity).despawn();
        }
        kept
    });
    for image in wanted {
        if close_ups.0.contains_key(&image) {
            continue;
        }
        let thumb = &collection.bundle.manifest.images[image as usize].thumb;
        let texture: Handle<Image> = assets.load(format!("{BUNDLE_SOURCE}://{thumb}"));
        let mesh = quads_mesh(&collection, &[image], QuadTexture::Whole, &transition, &emphasis);
        let material = AtlasMaterial::new(texture.clone(), CLOSE_UP_LIFT, &settings);
        let entity = commands
            .spawn((
                Mesh3d(meshes.add(mesh)),
                MeshMaterial3d(materials.add(material)),
                AtlasQuads { images: vec![image] },
                NoFrustumCulling,
            ))
            .id();
        close_ups.0.insert(image, (entity, texture));
    }
}
