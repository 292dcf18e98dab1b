//! Picking: which image is under the pointer, by projecting every image's quad the way the
//! shader does (exact for 100,000 images, a few milliseconds, only when the pointer moves).

use super::loading::{Collection, ImageRequest};
use super::rendering::LayoutTransition;
use super::{Selection, ViewSettings, ViewerState};
use crate::viewer::camera::FlyTo;
use bevy::math::Affine3A;
use bevy::prelude::*;
use bevy_egui::EguiContexts;

/// A click that moves less than this (logical pixels) between press and release selects;
/// more is a drag of the camera.
const CLICK_SLOP: f32 = 5.0;
/// Images drawn smaller than this (pixels across) are brought close when clicked.
const SMALL_ON_SCREEN: f32 = 48.0;

pub struct PickingPlugin;

impl Plugin for PickingPlugin {
    fn build(&self, app: &mut App) {
        let exploring = in_state(ViewerState::Exploring);
        app.init_resource::<ImageRequest>().add_systems(
            Update,
            (
                open_requested_image.run_if(exploring.clone().and_then(run_once)),
                (hover_image, click_image).chain().run_if(exploring),
            ),
        );
    }
}

/// An image under a point of the screen, and how large it is drawn there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub image: u32,
    /// Pixels across, on screen.
    pub size: f32,
}

/// Where a camera draws things, in logical pixels from the viewport's top-left corner,
/// computed as the shader does it.
pub struct ScreenProjection {
    view_from_world: Affine3A,
    /// Pixels per world unit at unit depth, horizontally and vertically.
    scale: Vec2,
    pub viewport: Vec2,
}

impl ScreenProjection {
    pub fn new(camera: &Camera, transform: &GlobalTransform) -> Option<ScreenProjection> {
        let viewport = camera.logical_viewport_size()?;
        let clip_from_view = camera.clip_from_view();
        Some(ScreenProjection {
            view_from_world: transform.affine().inverse(),
            scale: Vec2::new(clip_from_view.x_axis.x, clip_from_view.y_axis.y) * viewport / 2.0,
            viewport,
        })
    }

    /// Depth, on-screen centre and half-size of a camera-facing quad of `size` world units
    /// centred at `world`; `None` when it is behind the camera.
    pub fn project(&self, world: Vec3, size: Vec2) -> Option<(f32, Vec2, Vec2)> {
        let p = self.view_from_world.transform_point3(world);
        let depth = -p.z;
        (depth > 0.0).then(|| {
            let centre = Vec2::new(p.x, -p.y) / depth * self.scale + self.viewport / 2.0;
            (depth, centre, size / 2.0 / depth * self.scale)
        })
    }
}

/// One image as drawn now: its id, depth, on-screen centre and half-size (logical pixels).
pub struct DrawnImage {
    pub id: usize,
    pub depth: f32,
    pub centre: Vec2,
    pub half: Vec2,
}

impl ScreenProjection {
    /// Every image in front of the camera, where `transition` has it and at `image_size`.
    pub fn images<'a>(
        &'a self,
        collection: &'a Collection,
        transition: &'a LayoutTransition,
        image_size: f32,
    ) -> impl Iterator<Item = DrawnImage> + 'a {
        let manifest = &collection.bundle.manifest;
        let cell = manifest.cell_size as f32;
        // Until the rendering has caught up with a collection that just grew, only the images
        // the transition knows are drawn.
        manifest.images.iter().take(transition.len()).enumerate().filter_map(move |(id, record)| {
            // The quad is the image's cell shrunk to its aspect ratio.
            let size = Vec2::new(record.rect[2] as f32, record.rect[3] as f32) / cell * image_size;
            let (depth, centre, half) = self.project(transition.position(id), size)?;
            Some(DrawnImage { id, depth, centre, half })
        })
    }
}

/// The nearest image whose quad covers `cursor` (logical pixels from the top-left of the
/// viewport), if any.
pub fn image_at(
    cursor: Vec2,
    (camera, transform): (&Camera, &GlobalTransform),
    collection: &Collection,
    transition: &LayoutTransition,
    image_size: f32,
) -> Option<Hit> {
    let projection = ScreenProjection::new(camera, transform)?;
    projection
        .images(collection, transition, image_size)
        .filter(|image| {
            let offset = (cursor - image.centre).abs();
            offset.x <= image.half.x && offset.y <= image.half.y
        })
        .min_by(|a, b| a.depth.total_cmp(&b.depth))
        .map(|image| Hit { image: image.id as u32, size: 2.0 * image.half.max_element() })
}

fn pointer_over_ui(egui: &mut EguiContexts) -> bool {
    egui.ctx_mut().is_ok_and(|ctx| ctx.egui_wants_pointer_input() || ctx.is_pointer_over_egui())
}

fn hover_image(
    window: Single<&Window>,
    camera: Single<(&Camera, Ref<GlobalTransform>)>,
    collection: Res<Collection>,
    transition: Res<LayoutTransition>,
    settings: Res<ViewSettings>,
    mut selection: ResMut<Selection>,
    mut egui: EguiContexts,
    mut last_cursor: Local<Option<Vec2>>,
    pointer: Option<Single<&bevy::window::CursorOptions>>,
) {
    // A hidden pointer (a kiosk's touch screen) hovers over nothing.
    let cursor = window.cursor_position().filter(|_| pointer.is_none_or(|p| p.visible));
    let camera_moved = camera.1.is_changed();
    if cursor == *last_cursor && !camera_moved && !transition.is_changed() {
        return;
    }
    *last_cursor = cursor;
    let hovered = match cursor {
        Some(cursor) if !pointer_over_ui(&mut egui) => {
            let camera = (camera.0, &*camera.1);
            image_at(cursor, camera, &collection, &transition, settings.image_size).map(|hit| hit.image)
        }
        _ => None,
    };
    if selection.hovered != hovered {
        selection.hovered = hovered;
    }
}

fn click_image(
    buttons: Res<ButtonInput<MouseButton>>,
    window: Single<&Window>,
    camera: Single<(&Camera, &GlobalTransform)>,
    collection: Res<Collection>,
    transition: Res<LayoutTransition>,
    settings: Res<ViewSettings>,
    mut selection: ResMut<Selection>,
    mut fly: MessageWriter<FlyTo>,
    mut egui: EguiContexts,
    touches: Res<Touches>,
    mut pressed_at: Local<Option<Vec2>>,
) {
    let cursor = window.cursor_position();
    if buttons.just_pressed(MouseButton::Left) {
        *pressed_at = cursor.filter(|_| !pointer_over_ui(&mut egui));
    }
    let click = if buttons.just_released(MouseButton::Left) {
        pressed_at
            .take()
            .zip(cursor)
            .filter(|(start, end)| start.distance(*end) <= CLICK_SLOP)
            .map(|(_, end)| end)
    } else {
        None
    };
    // On a touch screen a tap is a click; a drag or a pinch only moves the camera.
    let tap = touches
        .iter_just_released()
        .find(|t| t.start_position().distance(t.position()) <= CLICK_SLOP && touches.iter().next().is_none())
        .map(|t| t.position())
        .filter(|_| !pointer_over_ui(&mut egui));
    let Some(point) = click.or(tap) else { return };
    match image_at(point, *camera, &collection, &transition, settings.image_size) {
        Some(hit) => {
            select(&mut selection, hit.image, &collection);
            if hit.size < SMALL_ON_SCREEN {
                fly.write(close_up(&transition, hit.image, settings.image_size));
            }
        }
        None => selection.selected = None,
    }
}

/// Open the image asked for at start: select it and fly up to it from the overview.
fn open_requested_image(
    request: Res<ImageRequest>,
    collection: Res<Collection>,
    transition: Res<LayoutTransition>,
    settings: Res<ViewSettings>,
    mut selection: ResMut<Selection>,
    mut fly: MessageWriter<FlyTo>,
) {
    let Some(image) = request.0 else { return };
    if image as usize >= collection.image_count() {
        warn!("there is no image {image} to open (the bundle has {})", collection.image_count());
        return;
    }
    select(&mut selection, image, &collection);
    fly.write(close_up(&transition, image, settings.image_size));
}

/// Select an image (opens its detail panel).
pub fn select(selection: &mut Selection, image: u32, collection: &Collection) {
    selection.selected = Some(image);
    info!("selected image {image}: {}", collection.bundle.manifest.images[image as usize].filename);
}

/// A view of one image from close enough that it fills about a third of the screen's height.
pub fn close_up(transition: &LayoutTransition, image: u32, image_size: f32) -> FlyTo {
    FlyTo { focus: transition.position(image as usize), distance: image_size * 4.0 }
}
