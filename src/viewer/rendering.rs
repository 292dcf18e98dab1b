//! Rendering: every image as a camera-facing quad, one mesh and one material per atlas, drawn
//! by `shaders/atlas.wgsl`. Layout changes animate on the GPU (the shader blends two positions).

use super::loading::{Collection, InitialLayout};
use super::{CollectionSystems, Selection, ViewSettings, ViewerState};
use bevy::asset::RenderAssetUsages;
use bevy::asset::uuid_handle;
use bevy::camera::visibility::NoFrustumCulling;
use bevy::mesh::{Indices, MeshVertexAttribute, MeshVertexBufferLayoutRef, PrimitiveTopology};
use bevy::pbr::{MaterialPipeline, MaterialPipelineKey};
use bevy::prelude::*;
use bevy::render::render_resource::{
    AsBindGroup, RenderPipelineDescriptor, ShaderType, SpecializedMeshPipelineError, VertexFormat,
};
use bevy::shader::ShaderRef;

const ATLAS_SHADER: Handle<Shader> = uuid_handle!("5b0d6a52-7d0e-4f3c-9d55-0c8f8e2a51f1");

const ATTRIBUTE_TARGET: MeshVertexAttribute =
    MeshVertexAttribute::new("PixflyTarget", 880_001, VertexFormat::Float32x3);
const ATTRIBUTE_CORNER: MeshVertexAttribute =
    MeshVertexAttribute::new("PixflyCorner", 880_002, VertexFormat::Float32x2);
const ATTRIBUTE_IMAGE: MeshVertexAttribute =
    MeshVertexAttribute::new("PixflyImage", 880_003, VertexFormat::Uint32);
const ATTRIBUTE_EMPHASIS: MeshVertexAttribute =
    MeshVertexAttribute::new("PixflyEmphasis", 880_004, VertexFormat::Float32);

/// Brightness of images outside the current search or filter.
const DIM: f32 = 0.22;

/// How long a layout change takes to animate, in seconds.
const TRANSITION_SECONDS: f32 = 1.2;

#[derive(Clone, Copy, Debug, ShaderType)]
struct AtlasSettings {
    progress: f32,
    image_size: f32,
    dim: f32,
    hovered: u32,
    selected: u32,
    /// How far towards the camera these quads are drawn, in image sizes: close-ups sit just
    /// in front of the same images in the atlases.
    lift: f32,
    /// WebGL2 wants uniform blocks in whole multiples of 16 bytes.
    padding: Vec2,
}

#[derive(Asset, TypePath, AsBindGroup, Clone, Debug)]
pub struct AtlasMaterial {
    #[uniform(0)]
    settings: AtlasSettings,
    #[texture(1)]
    #[sampler(2)]
    atlas: Handle<Image>,
}

impl AtlasMaterial {
    pub fn new(texture: Handle<Image>, lift: f32, settings: &ViewSettings) -> AtlasMaterial {
        let mut material = AtlasMaterial {
            settings: AtlasSettings {
                progress: 1.0,
                image_size: 0.0,
                dim: DIM,
                hovered: 0,
                selected: 0,
                lift,
                padding: Vec2::ZERO,
            },
            atlas: texture,
        };
        material.update(settings, &Selection::default(), 1.0);
        material
    }

    fn update(&mut self, settings: &ViewSettings, selection: &Selection, progress: f32) {
        self.settings.progress = progress;
        self.settings.image_size = settings.image_size;
        self.settings.hovered = selection.hovered.unwrap_or(u32::MAX);
        self.settings.selected = selection.selected.unwrap_or(u32::MAX);
    }
}

impl Material for AtlasMaterial {
    fn vertex_shader() -> ShaderRef {
        ATLAS_SHADER.into()
    }

    fn fragment_shader() -> ShaderRef {
        ATLAS_SHADER.into()
    }

    fn enable_prepass() -> bool {
        false
    }

    fn enable_shadows() -> bool {
        false
    }

    fn specialize(
        _pipeline: &MaterialPipeline,
        descriptor: &mut RenderPipelineDescriptor,
        layout: &MeshVertexBufferLayoutRef,
        _key: MaterialPipelineKey<Self>,
    ) -> Result<(), SpecializedMeshPipelineError> {
        descriptor.vertex.buffers = vec![layout.0.get_layout(&[
            Mesh::ATTRIBUTE_POSITION.at_shader_location(0),
            ATTRIBUTE_TARGET.at_shader_location(1),
            Mesh::ATTRIBUTE_UV_0.at_shader_location(2),
            ATTRIBUTE_CORNER.at_shader_location(3),
            ATTRIBUTE_IMAGE.at_shader_location(4),
            ATTRIBUTE_EMPHASIS.at_shader_location(5),
        ])?];
        descriptor.primitive.cull_mode = None;
        Ok(())
    }
}

/// The images a mesh of quads draws, in vertex order (four vertices each).
#[derive(Component)]
pub struct AtlasQuads {
    pub images: Vec<u32>,
}

/// The mesh of one atlas's quads (rather than a close-up's).
#[derive(Component)]
struct AtlasMesh;

/// Which layout is shown, and the animation towards it.
#[derive(Resource)]
pub struct LayoutTransition {
    /// Where each image started from (where it was when the change began).
    from: Vec<Vec3>,
    /// Where each image is headed: the shown layout's places.
    to: Vec<Vec3>,
    /// Index of the layout being shown (or animated towards), and its name.
    pub layout: usize,
    name: String,
    /// The collection these positions belong to (see [`Collection::generation`]).
    generation: u64,
    started: Option<f32>,
    /// Eased 0..1; 1 when the images have arrived.
    pub progress: f32,
}

impl LayoutTransition {
    /// Showing `layout`, with nothing in motion.
    pub fn at(collection: &Collection, layout: usize) -> LayoutTransition {
        let to = collection.places[layout].clone();
        LayoutTransition {
            from: to.clone(),
            to,
            layout,
            name: collection.bundle.manifest.layouts[layout].name.clone(),
            generation: collection.generation,
            started: None,
            progress: 1.0,
        }
    }

    /// Where image `id` is drawn now.
    pub fn position(&self, id: usize) -> Vec3 {
        self.from[id].lerp(self.to[id], self.progress)
    }

    pub fn is_done(&self) -> bool {
        self.progress >= 1.0
    }

    /// How many images it places.
    pub fn len(&self) -> usize {
        self.to.len()
    }

    /// Towards `layout` of `collection`, from where the images are drawn now; images new to
    /// the collection start where they are headed.
    fn towards(&self, collection: &Collection, layout: usize, now: f32) -> LayoutTransition {
        let to = collection.places[layout].clone();
        let from: Vec<Vec3> = to
            .iter()
            .enumerate()
            .map(|(id, &end)| if id < self.to.len() { self.position(id) } else { end })
            .collect();
        let moving = from != to;
        LayoutTransition {
            from,
            to,
            layout,
            name: collection.bundle.manifest.layouts[layout].name.clone(),
            generation: collection.generation,
            started: moving.then_some(now),
            progress: if moving { 0.0 } else { 1.0 },
        }
    }
}

/// Ask for another layout to be shown (animated).
#[derive(Message, Clone, Copy)]
pub struct ShowLayout(pub usize);

/// Which images the current search and filters keep; `None` when nothing is filtered.
#[derive(Resource, Default)]
pub struct Emphasis(pub Option<Vec<bool>>);

impl Emphasis {
    /// The emphasis vertex attribute for quads of `images`.
    fn per_vertex(&self, images: &[u32]) -> Vec<f32> {
        match &self.0 {
            Some(keep) => per_vertex(images, |i| if keep[i] { 1.0 } else { 0.0 }),
            None => vec![1.0; images.len() * 4],
        }
    }
}

pub struct RenderingPlugin;

impl Plugin for RenderingPlugin {
    fn build(&self, app: &mut App) {
        let shader = Shader::from_wgsl(include_str!("../../shaders/atlas.wgsl"), "shaders/atlas.wgsl");
        let _ = app.world_mut().resource_mut::<Assets<Shader>>().insert(ATLAS_SHADER.id(), shader);
        app.add_plugins(MaterialPlugin::<AtlasMaterial>::default())
            .init_resource::<Emphasis>()
            .add_message::<ShowLayout>()
            .add_systems(OnEnter(ViewerState::Exploring), spawn_atlas_meshes)
            .add_systems(
                PreUpdate,
                show_grown_collection
                    .in_set(CollectionSystems::Follow)
                    .run_if(in_state(ViewerState::Exploring)),
            )
            .add_systems(
                Update,
                (start_layout_change, advance_transition, apply_emphasis, update_materials)
                    .chain()
                    .run_if(in_state(ViewerState::Exploring)),
            );
    }
}

fn spawn_atlas_meshes(
    mut commands: Commands,
    collection: Res<Collection>,
    initial: Res<InitialLayout>,
    settings: Res<ViewSettings>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<AtlasMaterial>>,
) {
    let transition = LayoutTransition::at(&collection, initial.0);
    spawn_meshes(
        &mut commands,
        &collection,
        &transition,
        &Emphasis(None),
        &settings,
        &mut meshes,
        &mut materials,
    );
    commands.insert_resource(transition);
}

/// A collection that grows while it is assembled (`pixfly open`) is replaced by a larger one:
/// draw that instead, still showing the same layout, moving images from where they are.
fn show_grown_collection(
    mut commands: Commands,
    collection: Res<Collection>,
    mut transition: ResMut<LayoutTransition>,
    emphasis: Res<Emphasis>,
    settings: Res<ViewSettings>,
    drawn: Query<Entity, With<AtlasMesh>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<AtlasMaterial>>,
    time: Res<Time>,
) {
    if transition.generation == collection.generation {
        return;
    }
    for entity in &drawn {
        commands.entity(entity).despawn();
    }
    let layout = collection.bundle.layout_index(&transition.name).unwrap_or(0);
    *transition = transition.towards(&collection, layout, time.elapsed_secs());
    // The filters' systems recompute the emphasis for the new images after this.
    let emphasis = match &emphasis.0 {
        Some(keep) if keep.len() == collection.image_count() => &emphasis,
        _ => &Emphasis(None),
    };
    spawn_meshes(&mut commands, &collection, &transition, emphasis, &settings, &mut meshes, &mut materials);
}

fn spawn_meshes(
    commands: &mut Commands,
    collection: &Collection,
    transition: &LayoutTransition,
    emphasis: &Emphasis,
    settings: &ViewSettings,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<AtlasMaterial>,
) {
    let manifest = &collection.bundle.manifest;
    let mut per_atlas: Vec<Vec<u32>> = vec![Vec::new(); manifest.atlases.len()];
    for image in &manifest.images {
        per_atlas[image.atlas as usize].push(image.id);
    }
    for (index, images) in per_atlas.into_iter().enumerate() {
        if images.is_empty() {
            continue;
        }
        let mesh = quads_mesh(collection, &images, QuadTexture::Atlas(index), transition, emphasis);
        let material = AtlasMaterial::new(collection.atlases[index].clone(), 0.0, settings);
        commands.spawn((
            Mesh3d(meshes.add(mesh)),
            MeshMaterial3d(materials.add(material)),
            AtlasQuads { images },
            AtlasMesh,
            NoFrustumCulling,
        ));
    }
}

/// What a quad shows: its cell of an atlas, or a whole texture of its own (a close-up thumbnail).
pub enum QuadTexture {
    Atlas(usize),
    Whole,
}

/// Quads for `images`, placed as `transition` has them now (both ends of its animation),
/// corners sized by each image's aspect ratio, emphasised as `emphasis` says.
pub fn quads_mesh(
    collection: &Collection,
    images: &[u32],
    texture: QuadTexture,
    transition: &LayoutTransition,
    emphasis: &Emphasis,
) -> Mesh {
    let manifest = &collection.bundle.manifest;
    let cell = manifest.cell_size as f32;
    let to = &transition.to;
    let n = images.len() * 4;
    let (mut from_centres, mut to_centres, mut uvs, mut corners) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let mut indices = Vec::with_capacity(images.len() * 6);
    for &id in images {
        let record = &manifest.images[id as usize];
        let [x, y, w, h] = record.rect.map(|v| v as f32);
        // The cell, inset half a texel so neighbours in the atlas never bleed in.
        let [u0, v0, u1, v1] = match texture {
            QuadTexture::Atlas(atlas) => {
                let size =
                    Vec2::new(manifest.atlases[atlas].width as f32, manifest.atlases[atlas].height as f32);
                [(x + 0.5) / size.x, (y + 0.5) / size.y, (x + w - 0.5) / size.x, (y + h - 0.5) / size.y]
            }
            QuadTexture::Whole => [0.0, 0.0, 1.0, 1.0],
        };
        let (hw, hh) = (0.5 * w / cell, 0.5 * h / cell);
        let base = from_centres.len() as u32;
        // Bottom-left, bottom-right, top-right, top-left; textures' rows run downwards.
        for (corner, uv) in
            [([-hw, -hh], [u0, v1]), ([hw, -hh], [u1, v1]), ([hw, hh], [u1, v0]), ([-hw, hh], [u0, v0])]
        {
            from_centres.push(transition.from[id as usize].to_array());
            to_centres.push(to[id as usize].to_array());
            corners.push(corner);
            uvs.push(uv);
        }
        indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
    }
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD | RenderAssetUsages::MAIN_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, from_centres)
    .with_inserted_attribute(ATTRIBUTE_TARGET, to_centres)
    .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, uvs)
    .with_inserted_attribute(ATTRIBUTE_CORNER, corners)
    .with_inserted_attribute(ATTRIBUTE_IMAGE, per_vertex(images, |i| i as u32))
    .with_inserted_attribute(ATTRIBUTE_EMPHASIS, emphasis.per_vertex(images))
    .with_inserted_indices(Indices::U32(indices))
}

/// Every image's four vertices get `value(image)`.
fn per_vertex<T: Copy>(images: &[u32], value: impl Fn(usize) -> T) -> Vec<T> {
    images.iter().flat_map(|&id| [value(id as usize); 4]).collect()
}

fn start_layout_change(
    mut requests: MessageReader<ShowLayout>,
    mut transition: ResMut<LayoutTransition>,
    collection: Res<Collection>,
    quads: Query<(&Mesh3d, &AtlasQuads)>,
    mut meshes: ResMut<Assets<Mesh>>,
    time: Res<Time>,
) {
    let Some(&ShowLayout(layout)) = requests.read().last() else { return };
    if layout >= collection.places.len() || (layout == transition.layout && transition.is_done()) {
        return;
    }
    // Start from wherever the images are now, so a change during a change stays smooth.
    *transition = LayoutTransition {
        started: Some(time.elapsed_secs()),
        progress: 0.0,
        ..transition.towards(&collection, layout, time.elapsed_secs())
    };
    let (from, to) = (&transition.from, &transition.to);
    for (mesh, quads) in &quads {
        let Some(mut mesh) = meshes.get_mut(&mesh.0) else { continue };
        mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, per_vertex(&quads.images, |i| from[i].to_array()));
        mesh.insert_attribute(ATTRIBUTE_TARGET, per_vertex(&quads.images, |i| to[i].to_array()));
    }
}

fn advance_transition(mut transition: ResMut<LayoutTransition>, time: Res<Time>) {
    let Some(started) = transition.started else { return };
    let t = ((time.elapsed_secs() - started) / TRANSITION_SECONDS).clamp(0.0, 1.0);
    transition.progress = t * t * (3.0 - 2.0 * t);
    if t >= 1.0 {
        transition.started = None;
    }
}

fn apply_emphasis(
    emphasis: Res<Emphasis>,
    quads: Query<(&Mesh3d, Ref<AtlasQuads>)>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    for (mesh, quads) in &quads {
        // Quads spawned this frame (a close-up) may have been made before the emphasis changed.
        if !(emphasis.is_changed() || quads.is_added()) {
            continue;
        }
        let Some(mut mesh) = meshes.get_mut(&mesh.0) else { continue };
        mesh.insert_attribute(ATTRIBUTE_EMPHASIS, emphasis.per_vertex(&quads.images));
    }
}

fn update_materials(
    settings: Res<ViewSettings>,
    selection: Res<Selection>,
    transition: Res<LayoutTransition>,
    mut materials: ResMut<Assets<AtlasMaterial>>,
) {
    if !(settings.is_changed() || selection.is_changed() || transition.is_changed()) {
        return;
    }
    for (_, material) in materials.iter_mut() {
        material.update(&settings, &selection, transition.progress);
    }
}
