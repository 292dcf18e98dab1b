//! Bundle loading: a Bevy asset loader over the core crate's bundle reader, so the desktop and
//! the web read bundles the same way (files or HTTP) with the same validation.

use super::ViewerState;
use bevy::asset::RenderAssetUsages;
use bevy::asset::{AssetLoader, LoadContext, LoadState, io::Reader};
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use pixfly_core::bundle::{Bundle, BundleError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The asset source that points at the bundle being viewed (a folder, or a URL on the web).
pub const BUNDLE_SOURCE: &str = "bundle";

/// A loaded, validated bundle and its atlas textures (which keep loading after it).
#[derive(Asset, TypePath)]
pub struct BundleAsset {
    pub bundle: Arc<Bundle>,
    pub atlases: Vec<Handle<Image>>,
    /// The bundle's tour file, when it was asked for (the web kiosk).
    pub tour: Option<Vec<u8>>,
}

/// What to read besides the manifest and what it names.
#[derive(Serialize, Deserialize, Default, Clone, Copy)]
pub struct BundleSettings {
    /// The bundle's `tour.json` (`pixfly export-web` writes one into every site).
    pub tour: bool,
}

#[derive(Default, TypePath)]
struct BundleLoader;

impl AssetLoader for BundleLoader {
    type Asset = BundleAsset;
    type Settings = BundleSettings;
    type Error = BundleError;

    async fn load(
        &self,
        reader: &mut dyn Reader,
        settings: &BundleSettings,
        load_context: &mut LoadContext<'_>,
    ) -> Result<BundleAsset, BundleError> {
        let mut manifest_bytes = Vec::new();
        reader
            .read_to_end(&mut manifest_bytes)
            .await
            .map_err(|cause| BundleError::Io { path: load_context.path().to_string(), cause })?;
        // The reader in the core crate is synchronous: fetch the files it will ask for first.
        #[allow(unused_mut)]
        let mut manifest = pixfly_core::bundle::parse_manifest(&manifest_bytes)?;
        // Hotspot names a curator gave (beside the bundle, optional). Not asked of a web
        // server yet: a bundle without them would log a failed request in every visitor's console.
        #[cfg(not(target_arch = "wasm32"))]
        if let Ok(path) = load_context.path().resolve_embed_str(pixfly_core::names::NAMES_FILE)
            && let Ok(bytes) = load_context.read_asset_bytes(&path).await
            && let Err(message) = pixfly_core::names::apply(&mut manifest, &bytes)
        {
            warn!("hotspot names not used: {message}");
        }
        let named =
            manifest.layouts.iter().map(|l| &l.path).chain(manifest.neighbours.iter().map(|n| &n.path));
        let mut files = HashMap::new();
        for rel in named {
            let path = load_context.path().resolve_embed_str(rel).map_err(|e| invalid_path(rel, e))?;
            let bytes = load_context.read_asset_bytes(&path).await.map_err(|e| BundleError::Io {
                path: path.to_string(),
                cause: std::io::Error::other(e.to_string()),
            })?;
            files.insert(rel.clone(), bytes);
        }
        let bundle = Bundle::from_manifest(manifest, |rel, _| {
            files.remove(rel).ok_or_else(|| BundleError::Invalid(format!("{rel} was not read")))
        })?;
        let sizes: Vec<(u32, u32)> = bundle.manifest.atlases.iter().map(|a| (a.width, a.height)).collect();
        let reduction = pixfly_core::mipmaps::reduction_for(&sizes, ATLAS_MEMORY_BUDGET);
        if reduction > 1 {
            info!("atlases reduced {reduction}× to fit {} MiB of texture memory", ATLAS_MEMORY_BUDGET >> 20);
        }
        let mut atlases = Vec::new();
        for atlas in &bundle.manifest.atlases {
            let path = load_context
                .path()
                .resolve_embed_str(&atlas.path)
                .map_err(|e| invalid_path(&atlas.path, e))?;
            let settings =
                move |settings: &mut JpegSettings| *settings = JpegSettings { reduction, atlas: true };
            atlases.push(load_context.load_builder().with_settings(settings).load(path));
        }
        let tour = if settings.tour {
            let path = load_context
                .path()
                .resolve_embed_str(pixfly_core::tour::TOUR_FILE)
                .map_err(|e| invalid_path(pixfly_core::tour::TOUR_FILE, e))?;
            // Without one, the tour of the largest hotspots (and the reason in the log).
            match load_context.read_asset_bytes(&path).await {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    warn!("no tour: {e}");
                    None
                }
            }
        } else {
            None
        };
        Ok(BundleAsset { bundle: Arc::new(bundle), atlases, tour })
    }

    fn extensions(&self) -> &[&str] {
        &["json"]
    }
}

/// Loads the JPEGs pixfly writes (atlases, thumbnails) as textures ready for the GPU: decoded
/// straight to RGBA, reduced as `JpegSettings` asks and given their mip chain, all in the asset
/// loader's threads. (Bevy's own image loader decodes to RGB and left the rest to the main
/// thread, which made a 100,000-image bundle wait seconds for its first frame.)
/// The pixels go to the render world only (moved, not copied: at 100,000 images the copy was
/// half a gigabyte), so the loader counts the atlases' texture bytes itself.
#[derive(TypePath)]
struct JpegLoader {
    atlas_bytes: Arc<AtomicU64>,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
pub struct JpegSettings {
    /// Each side is divided by this (a power of two).
    pub reduction: u32,
    /// Counted in `AtlasTextureBytes`.
    pub atlas: bool,
}

impl Default for JpegSettings {
    fn default() -> Self {
        JpegSettings { reduction: 1, atlas: false }
    }
}

/// GPU texture memory of the atlases loaded so far (reduced to the budget, with mipmaps).
#[derive(Resource, Clone, Default)]
pub struct AtlasTextureBytes(Arc<AtomicU64>);

impl AtlasTextureBytes {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl AssetLoader for JpegLoader {
    type Asset = Image;
    type Settings = JpegSettings;
    type Error = BundleError;

    async fn load(
        &self,
        reader: &mut dyn Reader,
        settings: &JpegSettings,
        load_context: &mut LoadContext<'_>,
    ) -> Result<Image, BundleError> {
        let path = load_context.path().to_string();
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .await
            .map_err(|cause| BundleError::Io { path: path.clone(), cause })?;
        let invalid = |error: String| {
            BundleError::Invalid(format!("{path} is not a JPEG the viewer can read: {error}"))
        };
        let options = zune_core::options::DecoderOptions::default()
            .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGBA);
        let mut decoder =
            zune_jpeg::JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(&bytes), options);
        let rgba = decoder.decode().map_err(|e| invalid(e.to_string()))?;
        let info = decoder.info().ok_or_else(|| invalid("no image size".into()))?;
        let (width, height) = (u32::from(info.width), u32::from(info.height));
        if rgba.len() != width as usize * height as usize * 4 {
            return Err(invalid(format!("{} bytes for {width}×{height} RGBA pixels", rgba.len())));
        }
        let (rgba, width, height) = match settings.reduction {
            0 | 1 => (rgba, width, height),
            factor => pixfly_core::mipmaps::reduce(&rgba, width, height, factor),
        };
        let (data, levels) = pixfly_core::mipmaps::mip_chain(rgba, width, height);
        if settings.atlas {
            self.atlas_bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        let size = Extent3d { width, height, depth_or_array_layers: 1 };
        let usage = RenderAssetUsages::RENDER_WORLD;
        let mut image = Image::new_uninit(size, TextureDimension::D2, TextureFormat::Rgba8UnormSrgb, usage);
        image.texture_descriptor.mip_level_count = levels;
        image.data = Some(data);
        Ok(image)
    }

    fn extensions(&self) -> &[&str] {
        &["jpg", "jpeg"]
    }
}

fn invalid_path(rel: &str, error: impl std::fmt::Display) -> BundleError {
    BundleError::Invalid(format!("bad path {rel:?} in the manifest: {error}"))
}

/// The bundle the viewer shows, once loaded.
#[derive(Resource, Clone)]
pub struct Collection {
    pub bundle: Arc<Bundle>,
    pub atlases: Vec<Handle<Image>>,
    /// Every layout's positions in world units, in image order.
    pub places: Vec<Vec<Vec3>>,
    /// World units per unit of each layout's own coordinates (those of its file).
    pub scales: Vec<f32>,
    /// For a layout still growing (as a folder assembles), the box in world units it will fill
    /// once every image is in: the camera frames that rather than the images so far.
    pub planned_bounds: Vec<Option<(Vec3, Vec3)>>,
    /// Counts the collections shown so far: a collection that is being assembled is replaced
    /// by a larger one as images arrive, keeping the ids it had (0 for a finished bundle).
    pub generation: u64,
}

impl Collection {
    fn new(asset: &BundleAsset) -> Collection {
        let count = asset.bundle.manifest.image_count as usize;
        Collection::from_bundle(asset.bundle.clone(), asset.atlases.clone(), 0, count)
    }

    /// Show `bundle`, its atlas textures being `atlases` (loaded or made in memory); `planned`
    /// is how many images it will have once it has assembled (its image count when finished),
    /// so that images keep their size as it grows.
    pub fn from_bundle(
        bundle: Arc<Bundle>,
        atlases: Vec<Handle<Image>>,
        generation: u64,
        planned: usize,
    ) -> Collection {
        // Layouts span −1..1. Each is scaled so that neighbouring images sit about 2 world units
        // apart (see `spacing`): the image size, speeds and clipping planes then need no tuning,
        // and a sparse layout's images are drawn larger.
        let (places, scales) = bundle
            .positions
            .iter()
            .map(|layout| {
                // A layout from another tool may not be normalised as the format says: fit it,
                // rather than send the camera to infinity.
                let extent = layout.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
                let extent = if extent > 1.01 { extent } else { 1.0 };
                let normalised: Vec<Vec3> =
                    layout.iter().map(|p| Vec3::from_array(p.map(|v| v / extent))).collect();
                let scale = 2.0 / spacing(&normalised, planned);
                (normalised.into_iter().map(|p| p * scale).collect(), scale / extent)
            })
            .unzip();
        let planned_bounds = vec![None; bundle.positions.len()];
        Collection { bundle, atlases, places, scales, planned_bounds, generation }
    }

    pub fn image_count(&self) -> usize {
        self.bundle.manifest.image_count as usize
    }
}

/// How far apart neighbouring images are in a normalised layout: the median distance from a
/// sample of images to the nearest other one, kept between half and four times the spacing of a
/// grid of as many images. A grid's images are then drawn as they always were, a spread-out
/// layout's fill their cells, a sparse one's are larger, and a pile's no smaller than half size.
fn spacing(points: &[Vec3], planned: usize) -> f32 {
    let grid = 2.0 / (planned.max(points.len()) as f32).sqrt().max(1.0);
    if points.len() < 2 {
        return grid;
    }
    let key = |p: Vec3| (p / grid).floor().as_ivec3();
    let mut cells: HashMap<IVec3, Vec<usize>> = HashMap::new();
    for (i, p) in points.iter().enumerate() {
        cells.entry(key(*p)).or_default().push(i);
    }
    // Enough for a median; a few thousand distance checks whatever the collection's size.
    let step = (points.len() / 2000).max(1);
    let mut nearest: Vec<f32> = (0..points.len())
        .step_by(step)
        .map(|i| {
            let centre = key(points[i]);
            if cells[&centre].len() >= 16 {
                return 0.0; // a pile: far closer than the floor
            }
            let mut best = f32::INFINITY;
            for r in 0..=4i32 {
                for dz in -r..=r {
                    for dy in -r..=r {
                        for dx in -r..=r {
                            if dx.abs().max(dy.abs()).max(dz.abs()) != r {
                                continue;
                            }
                            let Some(ids) = cells.get(&(centre + IVec3::new(dx, dy, dz))) else { continue };
                            for &j in ids.iter().filter(|&&j| j != i) {
                                best = best.min(points[i].distance(points[j]));
                            }
                        }
                    }
                }
                // Anything in a farther shell is at least `r` cells away.
                if best <= r as f32 * grid {
                    break;
                }
            }
            best
        })
        .collect();
    nearest.sort_unstable_by(f32::total_cmp);
    nearest[nearest.len() / 2].clamp(0.5 * grid, 4.0 * grid)
}

/// The bundle's tour file as read with it, for the kiosk to check against the bundle.
#[derive(Resource)]
pub struct TourBytes(pub Vec<u8>);

/// The layout to show first, by name, as asked on the command line (or in the page's URL).
#[derive(Resource, Default)]
pub struct LayoutRequest(pub Option<String>);

/// The image to open first (selected, and flown up to), as asked on the command line or in the
/// page's URL.
#[derive(Resource, Default)]
pub struct ImageRequest(pub Option<u32>);

/// Index of the layout shown first: the one asked for, else the bundle's first (its default).
#[derive(Resource, Default)]
pub struct InitialLayout(pub usize);

/// Why the bundle could not be shown, for the error screen.
#[derive(Resource)]
pub struct LoadFailure(pub String);

#[derive(Resource)]
struct PendingBundle(Handle<BundleAsset>);

/// Reads bundles and their pictures; with `load_bundle`, the one at [`BUNDLE_SOURCE`] becomes
/// the [`Collection`] (without, something else provides it: `pixfly open` assembles one).
pub struct LoadingPlugin {
    pub load_bundle: bool,
    /// Read the bundle's tour too (into [`TourBytes`]).
    pub tour: bool,
}

impl Plugin for LoadingPlugin {
    fn build(&self, app: &mut App) {
        let atlas_bytes = AtlasTextureBytes::default();
        app.register_asset_loader(JpegLoader { atlas_bytes: atlas_bytes.0.clone() });
        app.insert_resource(atlas_bytes);
        app.init_asset::<BundleAsset>().init_asset_loader::<BundleLoader>();
        if !self.load_bundle {
            return;
        }
        app.add_systems(Update, finish_loading.run_if(in_state(ViewerState::Loading)));
        // Asked for now, not by a startup system: the bundle then loads while the renderer starts
        // (on the web, a third of a second before the first frame).
        let path = format!("{BUNDLE_SOURCE}://{}", pixfly_core::bundle::MANIFEST_FILE);
        let settings = BundleSettings { tour: self.tour };
        let bundle = app
            .world()
            .resource::<AssetServer>()
            .load_builder()
            .with_settings(move |s: &mut BundleSettings| *s = settings)
            .load(path);
        app.insert_resource(PendingBundle(bundle));
    }
}

fn finish_loading(
    mut commands: Commands,
    pending: Res<PendingBundle>,
    assets: Res<AssetServer>,
    bundles: Res<Assets<BundleAsset>>,
    request: Res<LayoutRequest>,
    mut next: ResMut<NextState<ViewerState>>,
) {
    match assets.load_state(&pending.0) {
        LoadState::Loaded => {
            let Some(asset) = bundles.get(&pending.0) else { return };
            let collection = Collection::new(asset);
            let layout = match &request.0 {
                None => 0,
                Some(name) => match collection.bundle.layout_index(name) {
                    Some(index) => index,
                    None => {
                        let manifest = &collection.bundle.manifest;
                        let known: Vec<_> = manifest.layouts.iter().map(|l| l.name.as_str()).collect();
                        fail(
                            &mut commands,
                            &mut next,
                            format!("the bundle has no layout {name:?} (it has: {})", known.join(", ")),
                        );
                        return;
                    }
                },
            };
            commands.insert_resource(InitialLayout(layout));
            info!(
                "bundle loaded: {} images, {} layouts, {} atlases",
                collection.image_count(),
                collection.places.len(),
                collection.atlases.len()
            );
            commands.insert_resource(collection);
            if let Some(bytes) = &asset.tour {
                commands.insert_resource(TourBytes(bytes.clone()));
            }
            next.set(ViewerState::Exploring);
        }
        LoadState::Failed(error) => fail(&mut commands, &mut next, error.to_string()),
        _ => {}
    }
}

fn fail(commands: &mut Commands, next: &mut NextState<ViewerState>, message: String) {
    error!("cannot show the bundle: {message}");
    commands.insert_resource(LoadFailure(message));
    next.set(ViewerState::Failed);
}

/// Texture memory the atlases may take on the GPU, mipmaps included. Beyond it, atlases are
/// reduced by halves as they arrive: 100,000 images in 64-pixel cells would take 2.2 GiB, but
/// an image seen from so far that 100,000 fit the screen needs few pixels, and images near the
/// camera get their own 256-pixel thumbnails.
pub const ATLAS_MEMORY_BUDGET: u64 = 1 << 30;

/// The asset server, and the textures it has loaded.
#[derive(SystemParam)]
pub struct ViewerAssets<'w> {
    server: Res<'w, AssetServer>,
    pub atlas_bytes: Res<'w, AtlasTextureBytes>,
}

impl std::ops::Deref for ViewerAssets<'_> {
    type Target = AssetServer;

    fn deref(&self) -> &AssetServer {
        &self.server
    }
}

impl ViewerAssets<'_> {
    /// How many atlases are ready to draw (images appear atlas by atlas), or why one never will be.
    pub fn atlases_loaded(&self, collection: &Collection) -> Result<usize, String> {
        let mut loaded = 0;
        let atlases = collection.atlases.iter().zip(&collection.bundle.manifest.atlases);
        for (handle, atlas) in atlases {
            // An atlas made in memory (while a collection assembles) is there from the start.
            if handle.path().is_none() {
                loaded += 1;
                continue;
            }
            match self.server.load_state(handle) {
                LoadState::Loaded => loaded += 1,
                LoadState::Failed(error) => return Err(format!("cannot load atlas {}: {error}", atlas.path)),
                _ => {}
            }
        }
        Ok(loaded)
    }
}
