//! `pixfly open`: a folder assembles in the window while it is read.
//!
//! The very `build` that `pixfly build` runs works on a worker thread (and its own pool of
//! threads below the window's priority, so a frame gets the CPU when it needs it): the bundle it
//! writes is `pixfly build`'s. While it runs, frames come as the visitor needs them and otherwise
//! within a small share of the machine ([`pacing`]). What it reports as it goes (files read,
//! vectors, UMAP's epochs, the finished bundle) comes over a bounded channel, drained each frame
//! into messages; one plugin per stage turns them into a growing [`Collection`]:
//! - [`ingestion`]: each image's atlas cell into an atlas page, in the next place of an arrival grid;
//! - [`inference`]: the network's auto-tags, searchable as they come;
//! - [`reduction`]: the UMAP cloud settling, then the finished bundle's layouts and hotspots.
//!
//! Ids are arrival order while the app runs (the bundle on disk numbers images by filename).

pub mod inference;
pub mod ingestion;
mod pacing;
mod panel;
pub mod reduction;
#[cfg(test)]
mod tests;
mod worker;

use crate::viewer::camera::FrameAll;
use crate::viewer::loading::Collection;
use crate::viewer::poster::{Hold, ReportNotes};
use crate::viewer::rendering::ShowLayout;
use crate::viewer::{CollectionSystems, ViewerState};
use bevy::prelude::*;
use pixfly_core::atlas::AtlasGrid;
use pixfly_core::build::BuildOptions;
use pixfly_core::bundle::{self, Atlas, Bundle, Cluster, EmbeddingInfo, ImageRecord, Layout, Manifest};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
pub use worker::Worker;

/// The stages of a frame's assembly work, in order, before the viewer looks at the collection.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum AssemblySystems {
    /// What the build reported since the last frame becomes messages.
    Receive,
    /// Each stage's plugin folds its messages into the [`Live`] collection.
    Integrate,
    /// Now and then, the live collection is shown (a new [`Collection`]).
    Present,
}

/// How the app assembles a folder.
pub struct AssemblyPlugin {
    pub options: BuildOptions,
    /// Take the picture (with `--screenshot`) once this many images are shown, not at the end.
    pub picture_at: Option<usize>,
    /// Taking a picture for a script: exit when done, and with an error when the build fails.
    pub unattended: bool,
}

impl Plugin for AssemblyPlugin {
    fn build(&self, app: &mut App) {
        // Without a window (the headless tests) there is no event loop to wake.
        let wake = app.world().get_resource::<bevy::winit::EventLoopProxyWrapper>().map(|proxy| {
            let proxy = (**proxy).clone();
            Arc::new(move || {
                let _ = proxy.send_event(bevy::winit::WinitUserEvent::WakeUp);
            }) as worker::Wake
        });
        let worker = Worker::start(self.options.clone(), wake.clone());
        let page_grid =
            AtlasGrid { cell: self.options.cell_size, columns: (PAGE_SIZE / self.options.cell_size).max(1) };
        app.insert_resource(worker)
            .insert_resource(Assembling(self.options.clone(), wake))
            .add_message::<LayOutAfresh>()
            .init_resource::<crate::viewer::loading::InitialLayout>()
            .insert_resource(Live::new(&self.options, page_grid))
            .insert_resource(Picture { at: self.picture_at, unattended: self.unattended })
            .init_resource::<panel::AssemblyProgress>()
            .configure_sets(
                PreUpdate,
                (AssemblySystems::Receive, AssemblySystems::Integrate, AssemblySystems::Present).chain(),
            )
            .configure_sets(
                PreUpdate,
                (
                    (AssemblySystems::Receive, AssemblySystems::Integrate).before(CollectionSystems::Grow),
                    AssemblySystems::Present.in_set(CollectionSystems::Grow),
                ),
            )
            .add_plugins((
                ingestion::IngestionPlugin,
                inference::InferencePlugin,
                reduction::ReductionPlugin,
                panel::ProgressPanelPlugin,
            ))
            .add_systems(
                PreUpdate,
                (lay_out_afresh, worker::receive).chain().in_set(AssemblySystems::Receive),
            )
            .add_systems(PreUpdate, present.in_set(AssemblySystems::Present))
            .init_resource::<pacing::Pacing>()
            .add_systems(Last, pacing::pace_frames);
        if self.unattended {
            app.insert_resource(Hold::default()).init_resource::<ReportNotes>();
        }
    }
}

/// What is being assembled, and how the build wakes the app when it is done.
#[derive(Resource)]
struct Assembling(BuildOptions, Option<worker::Wake>);

/// Lay every image out again (the panel's button, once a build has placed new images among
/// old ones).
#[derive(Message)]
pub struct LayOutAfresh;

/// The same build again with `relayout`: every image comes from the cache, and UMAP runs on
/// all of them, shown settling as the first time.
fn lay_out_afresh(
    mut requests: MessageReader<LayOutAfresh>,
    assembling: Res<Assembling>,
    mut worker: ResMut<Worker>,
    mut live: ResMut<Live>,
    mut progress: ResMut<panel::AssemblyProgress>,
) {
    if requests.read().last().is_none() {
        return;
    }
    worker.stop();
    *worker = Worker::start(BuildOptions { relayout: true, ..assembling.0.clone() }, assembling.1.clone());
    live.finished = None;
    live.settling.clear();
    live.changed = true;
    *progress = panel::AssemblyProgress::default();
}

/// Atlas pages made while assembling are this many pixels square: small enough that adding
/// images to one re-sends little to the GPU.
const PAGE_SIZE: u32 = 1024;

/// Shown at most this often while images arrive (each showing re-sends the pages that changed).
const PRESENT_EVERY: Duration = Duration::from_millis(250);

/// `--screenshot` (`unattended`), perhaps with `--at images=N`.
#[derive(Resource)]
struct Picture {
    at: Option<usize>,
    unattended: bool,
}

/// The collection as far as it has assembled, in arrival order.
#[derive(Resource)]
pub struct Live {
    /// Files found, when known: the arrival grid has a place for each.
    pub found: usize,
    cell_size: u32,
    thumb_size: u32,
    page_grid: AtlasGrid,
    pub images: Vec<ImageRecord>,
    by_hash: HashMap<String, u32>,
    /// Each page's pixels (RGBA) and whether they changed since last shown.
    pages: Vec<(Vec<u8>, bool)>,
    page_handles: Vec<Handle<Image>>,
    /// The network's classes, once it is loaded; auto-tags index them.
    pub classes: Vec<String>,
    /// UMAP as it settles: name, title, dims, normalised positions.
    pub settling: Vec<(String, String, u8, Vec<[f32; 3]>)>,
    /// The finished bundle, renumbered in arrival order (layouts, hotspots, neighbours).
    pub finished: Option<Finished>,
    /// Something changed since the collection was last shown, and the layout to move to then.
    pub changed: bool,
    pub show: Option<String>,
    generation: u64,
    last_shown: Option<Duration>,
    /// Images shown in the collection last presented.
    pub shown: usize,
}

/// What the bundle adds once it is written, in arrival order.
pub struct Finished {
    pub layouts: Vec<Layout>,
    pub positions: Vec<Vec<[f32; 3]>>,
    pub clusters: Vec<Cluster>,
    pub embedding: Option<EmbeddingInfo>,
    pub neighbours: Option<(bundle::NeighboursInfo, Vec<u32>)>,
}

impl Live {
    fn new(options: &BuildOptions, page_grid: AtlasGrid) -> Live {
        Live {
            found: 0,
            cell_size: options.cell_size,
            thumb_size: options.thumb_size,
            page_grid,
            images: Vec::new(),
            by_hash: HashMap::new(),
            pages: Vec::new(),
            page_handles: Vec::new(),
            classes: Vec::new(),
            settling: Vec::new(),
            finished: None,
            changed: false,
            show: None,
            generation: 0,
            last_shown: None,
            shown: 0,
        }
    }

    pub fn id_of(&self, hash: &str) -> Option<u32> {
        self.by_hash.get(hash).copied()
    }

    /// The collection of the first `count` images as it stands.
    fn collection(&mut self, count: usize, images: &mut Assets<Image>) -> Collection {
        for (index, (pixels, changed)) in self.pages.iter_mut().enumerate() {
            if !std::mem::take(changed) {
                continue;
            }
            let side = self.page_grid.columns * self.page_grid.cell;
            let page = page_image(side, pixels.clone());
            match self.page_handles.get(index) {
                Some(handle) => {
                    let _ = images.insert(handle.id(), page);
                }
                None => self.page_handles.push(images.add(page)),
            }
        }
        let records = &self.images[..count];
        let side = self.page_grid.columns * self.page_grid.cell;
        let pages = records.last().map_or(0, |r| r.atlas as usize + 1);
        let atlases =
            (0..pages).map(|i| Atlas { path: format!("live-page-{i}"), width: side, height: side }).collect();
        let arrival =
            Layout { name: "arrival".into(), title: "As they arrive".into(), dims: 2, path: String::new() };
        let grid = pixfly_core::layout::grid(self.found.max(count));
        let arrival_places = grid[..count].to_vec();
        // A picture of the first N (`--at`) may come after the bundle is done: it shows no more
        // than the images that had arrived by then.
        let whole = self.finished.as_ref().filter(|_| count == self.images.len());
        let (mut layouts, mut positions, clusters, embedding, neighbours) = match whole {
            Some(done) => (
                done.layouts.clone(),
                done.positions.clone(),
                done.clusters.clone(),
                done.embedding.clone(),
                done.neighbours.clone(),
            ),
            _ => {
                let (layouts, positions) = self
                    .settling
                    .iter()
                    .filter(|(.., places)| places.len() == count)
                    .map(|(name, title, dims, places)| {
                        let layout = Layout {
                            name: name.clone(),
                            title: title.clone(),
                            dims: *dims,
                            path: String::new(),
                        };
                        (layout, places.clone())
                    })
                    .unzip();
                let embedding = (!self.classes.is_empty()).then(|| EmbeddingInfo {
                    model: String::new(),
                    dims: 0,
                    path: String::new(),
                    hash: String::new(),
                    classes: self.classes.clone(),
                });
                (layouts, positions, Vec::new(), embedding, None)
            }
        };
        if whole.is_none() {
            layouts.push(arrival);
            positions.push(arrival_places);
        }
        let (neighbours, neighbour_ids) = neighbours.unzip();
        let manifest = Manifest {
            format: bundle::FORMAT_NAME.into(),
            version: bundle::SCHEMA_VERSION,
            generator: String::new(),
            image_count: count as u32,
            cell_size: self.cell_size,
            thumb_size: self.thumb_size,
            atlases,
            layouts,
            images: records.to_vec(),
            clusters,
            embedding,
            neighbours,
        };
        let bundle = Bundle { manifest, positions, neighbours: neighbour_ids.unwrap_or_default() };
        self.generation += 1;
        self.shown = count;
        let planned = self.found.max(count);
        let mut collection = Collection::from_bundle(
            Arc::new(bundle),
            self.page_handles[..pages].to_vec(),
            self.generation,
            planned,
        );
        if whole.is_none() {
            // The arrival grid's every place is known once the files are found.
            let arrival = collection.places.len() - 1;
            let scale = collection.scales[arrival];
            let everywhere: Vec<Vec3> = grid.iter().map(|p| Vec3::from_array(*p) * scale).collect();
            collection.planned_bounds[arrival] = Some(crate::viewer::camera::core_bounds(&everywhere));
        }
        collection
    }

    /// Copy an image's atlas cell (RGB) into its place in a page.
    fn paint(&mut self, id: u32, cell: &image::RgbImage) -> (u32, [u32; 4]) {
        let (page, rect) = self.page_grid.place(id, cell.width(), cell.height());
        let side = (self.page_grid.columns * self.page_grid.cell) as usize;
        while self.pages.len() <= page as usize {
            self.pages.push((vec![0; side * side * 4], true));
        }
        let (pixels, changed) = &mut self.pages[page as usize];
        for (x, y, p) in cell.enumerate_pixels() {
            let at = ((rect[1] + y) as usize * side + (rect[0] + x) as usize) * 4;
            pixels[at..at + 4].copy_from_slice(&[p[0], p[1], p[2], 255]);
        }
        *changed = true;
        (page, rect)
    }
}

fn page_image(side: u32, pixels: Vec<u8>) -> Image {
    use bevy::asset::RenderAssetUsages;
    use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
    let size = Extent3d { width: side, height: side, depth_or_array_layers: 1 };
    Image::new(
        size,
        TextureDimension::D2,
        pixels,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD,
    )
}

/// Show the live collection when it changed (at most every [`PRESENT_EVERY`] while images
/// arrive), keeping it all in view until the visitor takes the camera. With `--at images=N` the
/// picture sees exactly the first N images: the collection stops growing on screen until it is
/// taken.
fn present(
    mut live: ResMut<Live>,
    picture: Res<Picture>,
    (hold, notes): (Option<ResMut<Hold>>, Option<ResMut<ReportNotes>>),
    progress: Res<panel::AssemblyProgress>,
    mut screen: Screen,
    mut visitor: Visitor,
    time: Res<Time<Real>>,
) {
    let taken = visitor.has_taken_the_camera();
    let now = time.elapsed();
    let mut count = live.images.len();
    let complete = live.finished.is_some();
    if let (Some(mut hold), Some(mut notes)) = (hold, notes) {
        hold.exit = complete;
        match picture.at {
            Some(_) if hold.take && !hold.shot => return, // the picture of the first N is being taken
            Some(at) if !hold.take && count > 0 && (count >= at || complete) => {
                count = at.min(count);
                hold.take = true;
                notes.0.insert("assembly".into(), progress.report(&live.images[..count]));
                live.changed = true;
                live.last_shown = None;
            }
            Some(_) => {}
            None => {
                hold.take = complete && live.shown == live.images.len() && !live.changed;
                if hold.take {
                    notes.0.insert("assembly".into(), progress.report(&live.images));
                }
            }
        }
    }
    if !live.changed || count == 0 {
        return;
    }
    if live.last_shown.is_some_and(|t| now - t < PRESENT_EVERY) && !complete {
        return;
    }
    live.changed = false;
    live.last_shown = Some(now);
    let collection = live.collection(count, &mut screen.images);
    let layout = live.show.take().and_then(|name| collection.bundle.layout_index(&name));
    screen.show(collection, layout, !taken);
}

/// Where a new collection goes, and the camera with it.
#[derive(bevy::ecs::system::SystemParam)]
struct Screen<'w, 's> {
    commands: Commands<'w, 's>,
    images: ResMut<'w, Assets<Image>>,
    state: Res<'w, State<ViewerState>>,
    next: ResMut<'w, NextState<ViewerState>>,
    show_layout: MessageWriter<'w, ShowLayout>,
    frame_all: MessageWriter<'w, FrameAll>,
}

impl Screen<'_, '_> {
    /// Show `collection`, moving to `layout` if given (the camera follows a change of layout
    /// by itself), else keeping it all in view if `follow`.
    fn show(&mut self, collection: Collection, layout: Option<usize>, follow: bool) {
        match layout {
            Some(index) => {
                self.show_layout.write(ShowLayout(index));
            }
            None if follow => {
                self.frame_all.write(FrameAll);
            }
            None => {}
        }
        self.commands.insert_resource(collection);
        if *self.state.get() == ViewerState::Loading {
            self.next.set(ViewerState::Exploring);
        }
    }
}

/// Whether the visitor has moved the camera (or pressed anything) since the window opened.
#[derive(bevy::ecs::system::SystemParam)]
struct Visitor<'w, 's> {
    buttons: Res<'w, ButtonInput<MouseButton>>,
    keys: Res<'w, ButtonInput<KeyCode>>,
    wheel: MessageReader<'w, 's, bevy::input::mouse::MouseWheel>,
    touches: Res<'w, Touches>,
    taken: Local<'s, bool>,
}

impl Visitor<'_, '_> {
    fn has_taken_the_camera(&mut self) -> bool {
        let touched = self.buttons.get_just_pressed().next().is_some()
            || self.keys.get_just_pressed().next().is_some()
            || self.wheel.read().next().is_some()
            || self.touches.any_just_pressed();
        *self.taken |= touched;
        *self.taken
    }
}
