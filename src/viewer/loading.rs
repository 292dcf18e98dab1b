//! Bundle loading: a Bevy asset loader over the core crate's bundle reader, so the desktop and
//! the web read bundles the same way (files or HTTP) with the same validation.

use super::ViewerState;
use bevy::asset::{AssetLoader, LoadContext, LoadState, io::Reader};
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureFormat};
use pixfly_core::bundle::{Bundle, BundleError};
use std::collections::HashMap;
use std::sync::Arc;

/// The asset source that points at the bundle being viewed (a folder, or a URL on the web).
pub const BUNDLE_SOURCE: &str = "bundle";

/// A loaded, validated bundle and its atlas textures (which keep loading after it).
#[derive(Asset, TypePath)]
pub struct BundleAsset {
    pub bundle: Arc<Bundle>,
    pub atlases: Vec<Handle<Image>>,
}

#[derive(Default, TypePath)]
struct BundleLoader;

impl AssetLoader for BundleLoader {
    type Asset = BundleAsset;
    type Settings = ();
    type Error = BundleError;

    async fn load(
        &self,
        reader: &mut dyn Reader,
        _settings: &(),
        load_context: &mut LoadContext<'_>,
    ) -> Result<BundleAsset, BundleError> {
        let mut manifest_bytes = Vec::new();
        reader
            .read_to_end(&mut manifest_bytes)
            .await
            .map_err(|source| BundleError::Io { path: load_context.path().to_string(), source })?;
        // The reader in the core crate is synchronous: fetch the files it will ask for first.
        let manifest = pixfly_core::bundle::parse_manifest(&manifest_bytes)?;
        let named =
            manifest.layouts.iter().map(|l| &l.path).chain(manifest.neighbours.iter().map(|n| &n.path));
        let mut files = HashMap::new();
        for rel in named {
            let path = load_context.path().resolve_embed_str(rel).map_err(|e| invalid_path(rel, e))?;
            let bytes = load_context.read_asset_bytes(&path).await.map_err(|e| BundleError::Io {
                path: path.to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
            files.insert(rel.clone(), bytes);
        }
        let bundle = Bundle::from_parts(&manifest_bytes, |rel| {
            files.remove(rel).ok_or_else(|| BundleError::Invalid(format!("{rel} was not read")))
        })?;
        let mut atlases = Vec::new();
        for atlas in &bundle.manifest.atlases {
            let path = load_context
                .path()
                .resolve_embed_str(&atlas.path)
                .map_err(|e| invalid_path(&atlas.path, e))?;
            atlases.push(load_context.load(path));
        }
        Ok(BundleAsset { bundle: Arc::new(bundle), atlases })
    }

    fn extensions(&self) -> &[&str] {
        &["json"]
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
}

impl Collection {
    fn new(asset: &BundleAsset) -> Collection {
        let bundle = asset.bundle.clone();
        // Layouts span −1..1; scaling by √n keeps a grid's spacing near 2 world units whatever
        // the collection's size, so image size, speeds and clipping planes need no tuning.
        let scale = (bundle.manifest.image_count as f32).sqrt().max(1.0);
        let places = bundle
            .positions
            .iter()
            .map(|layout| layout.iter().map(|p| Vec3::from_array(*p) * scale).collect())
            .collect();
        Collection { bundle, atlases: asset.atlases.clone(), places }
    }

    pub fn image_count(&self) -> usize {
        self.bundle.manifest.image_count as usize
    }
}

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

pub struct LoadingPlugin;

impl Plugin for LoadingPlugin {
    fn build(&self, app: &mut App) {
        app.init_asset::<BundleAsset>()
            .init_asset_loader::<BundleLoader>()
            .add_systems(Startup, start_loading)
            .init_resource::<PreparedAtlases>()
            .add_systems(Update, finish_loading.run_if(in_state(ViewerState::Loading)))
            .add_systems(Update, prepare_atlases.run_if(resource_exists::<Collection>));
    }
}

fn start_loading(mut commands: Commands, assets: Res<AssetServer>) {
    let path = format!("{BUNDLE_SOURCE}://{}", pixfly_core::bundle::MANIFEST_FILE);
    commands.insert_resource(PendingBundle(assets.load(path)));
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

/// Which atlases have been made ready for the GPU (reduced to the budget, mipmapped).
#[derive(Resource, Default)]
pub struct PreparedAtlases {
    done: Vec<bool>,
    /// Each side of every atlas is divided by this.
    reduction: u32,
    /// GPU texture bytes of the prepared atlases.
    pub bytes: u64,
}

/// Gives each atlas, once loaded, the size the budget allows and its mip chain, before the
/// GPU first sees it (it is uploaded after this frame's update).
fn prepare_atlases(
    collection: Res<Collection>,
    mut prepared: ResMut<PreparedAtlases>,
    mut images: ResMut<Assets<Image>>,
) {
    let atlases = &collection.bundle.manifest.atlases;
    if prepared.done.len() != atlases.len() {
        let sizes: Vec<(u32, u32)> = atlases.iter().map(|a| (a.width, a.height)).collect();
        let reduction = pixfly_core::mipmaps::reduction_for(&sizes, ATLAS_MEMORY_BUDGET);
        if reduction > 1 {
            info!("atlases reduced {reduction}× to fit {} MiB of texture memory", ATLAS_MEMORY_BUDGET >> 20);
        }
        *prepared = PreparedAtlases { done: vec![false; atlases.len()], reduction, bytes: 0 };
    }
    for (i, handle) in collection.atlases.iter().enumerate() {
        if prepared.done[i] {
            continue;
        }
        let Some(mut image) = images.get_mut(handle) else { continue };
        prepared.bytes += prepare_atlas(&mut image, prepared.reduction);
        prepared.done[i] = true;
    }
}

/// Reduce and mipmap one atlas in place; returns its GPU bytes.
fn prepare_atlas(image: &mut Image, reduction: u32) -> u64 {
    let size = image.texture_descriptor.size;
    let rgba8 =
        matches!(image.texture_descriptor.format, TextureFormat::Rgba8UnormSrgb | TextureFormat::Rgba8Unorm);
    if !rgba8 || image.texture_descriptor.mip_level_count != 1 {
        // Not an atlas as pixfly writes them: shown as it came.
        return image.data.as_ref().map_or(0, |d| d.len() as u64);
    }
    let Some(data) = image.data.take() else { return 0 };
    let (data, width, height) = if reduction > 1 {
        pixfly_core::mipmaps::reduce(&data, size.width, size.height, reduction)
    } else {
        (data, size.width, size.height)
    };
    let (data, levels) = pixfly_core::mipmaps::mip_chain(data, width, height);
    let bytes = data.len() as u64;
    image.texture_descriptor.size = Extent3d { width, height, depth_or_array_layers: 1 };
    image.texture_descriptor.mip_level_count = levels;
    image.data = Some(data);
    bytes
}

/// The asset server, and which atlases are ready to draw.
#[derive(SystemParam)]
pub struct ViewerAssets<'w> {
    server: Res<'w, AssetServer>,
    pub prepared: Res<'w, PreparedAtlases>,
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
        for (i, (handle, atlas)) in atlases.enumerate() {
            match self.server.load_state(handle) {
                LoadState::Loaded if self.prepared.done.get(i) == Some(&true) => loaded += 1,
                LoadState::Failed(error) => return Err(format!("cannot load atlas {}: {error}", atlas.path)),
                _ => {}
            }
        }
        Ok(loaded)
    }
}
