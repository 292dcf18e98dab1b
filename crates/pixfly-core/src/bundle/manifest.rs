//! The bundle manifest (`manifest.json`): plain serde types, documented in `docs/bundle.md`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The value of `format` in every manifest, so a stray JSON file is not mistaken for a bundle.
pub const FORMAT_NAME: &str = "pixfly-bundle";
/// The schema version this code writes and reads. Bump it on any incompatible change.
pub const SCHEMA_VERSION: u32 = 4;
/// Largest atlas side, in pixels: the texture size every WebGL2 device supports.
pub const MAX_ATLAS_SIZE: u32 = 4096;
/// The manifest's file name inside a bundle folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The embeddings' file name inside a bundle folder (fixed, so numpy users can find it).
pub const EMBEDDINGS_FILE: &str = "embeddings.npy";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// Always [`SCHEMA_VERSION`] for bundles this code can read.
    pub version: u32,
    /// What wrote the bundle, e.g. `pixfly 0.1.0`.
    pub generator: String,
    pub image_count: u32,
    /// Side of the square atlas cell every image is fitted into, in pixels.
    pub cell_size: u32,
    /// Longest side of the per-image close-up thumbnails, in pixels.
    pub thumb_size: u32,
    pub atlases: Vec<Atlas>,
    pub layouts: Vec<Layout>,
    pub images: Vec<ImageRecord>,
    /// Groups of similar images ("hotspots"), largest first; empty without vectors.
    #[serde(default)]
    pub clusters: Vec<Cluster>,
    /// The images' feature vectors, when the bundle has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<EmbeddingInfo>,
    /// Each image's nearest images by their vectors ("fly to similar"), when the bundle has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbours: Option<NeighboursInfo>,
}

/// Where each image's most similar images are listed.
impl Manifest {
    /// Every file the manifest names, relative to the bundle: what a copy of it must hold
    /// besides the manifest itself (anything else in the folder, such as a build cache, is not
    /// part of it).
    pub fn files(&self) -> impl Iterator<Item = &str> {
        let layouts = self.layouts.iter().map(|l| l.path.as_str());
        let atlases = self.atlases.iter().map(|a| a.path.as_str());
        let thumbs = self.images.iter().map(|i| i.thumb.as_str());
        let neighbours = self.neighbours.iter().map(|n| n.path.as_str());
        let embedding = self.embedding.iter().map(|e| e.path.as_str());
        layouts.chain(atlases).chain(thumbs).chain(neighbours).chain(embedding)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighboursInfo {
    /// Neighbours per image.
    pub k: u32,
    /// Relative path of an `image_count × k` array of little-endian u32 image ids, one row per
    /// image in id order, most similar first.
    pub path: String,
}

/// Where the images' feature vectors are and what made them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingInfo {
    /// The network, e.g. `efficientnet-lite0`, or `user` for vectors given with `--embeddings`.
    pub model: String,
    /// Length of each vector.
    pub dims: u32,
    /// Relative path of an `image_count × dims` float32 `.npy` file: one L2-normalised row per
    /// image, in id order.
    pub path: String,
    /// BLAKE3 (hex) of that file, so a reader can tell it belongs to this manifest.
    pub hash: String,
    /// The class names that images' `auto_tags` refer to by index (ImageNet's 1,000 for the
    /// built-in networks; empty for user vectors).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

/// One texture atlas: a grid of `cell_size` cells, row-major, `columns` wide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Atlas {
    /// Relative path of the JPEG inside the bundle.
    pub path: String,
    pub width: u32,
    pub height: u32,
}

/// A set of positions, one per image, stored as little-endian f32 triples (x, y, z).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Unique, short, machine-friendly: `grid`, `umap2d`, `umap3d`, …
    pub name: String,
    /// What people see in the layout switcher.
    pub title: String,
    /// 2 or 3. Two-dimensional layouts have z = 0.
    pub dims: u8,
    /// Relative path of the `image_count × 3` f32 array inside the bundle.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRecord {
    /// Equal to the record's index in `images`.
    pub id: u32,
    /// The image's path relative to the collection it came from (`/`-separated), shown to people
    /// and used to join metadata.
    pub filename: String,
    /// Relative path of the close-up thumbnail (JPEG) inside the bundle.
    pub thumb: String,
    /// Size of the original image, upright (after EXIF orientation).
    pub width: u32,
    pub height: u32,
    /// Index into `atlases`.
    pub atlas: u32,
    /// Where the image sits in its atlas: x, y, width, height in pixels, top-left origin.
    pub rect: [u32; 4],
    /// Content hash (BLAKE3, hex) of the original file.
    pub hash: String,
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
    /// What the network sees: its most probable classes as (index into `embedding.classes`,
    /// probability), best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auto_tags: Vec<(u32, f32)>,
}

/// Descriptive fields from the metadata CSV (PixPlot's columns), all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permalink: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lng: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Any other CSV columns, kept as strings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl Metadata {
    pub fn is_empty(&self) -> bool {
        *self == Metadata::default()
    }
}

/// A group of similar images ("hotspot").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// What its members have in common (their most characteristic category or auto-tags).
    pub name: String,
    /// The image that stands for the cluster (its cover): the medoid of the members' vectors.
    pub representative: u32,
    /// Member image ids, ascending.
    pub members: Vec<u32>,
    /// The mean position of the members in each layout, by layout name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub centroids: BTreeMap<String, [f32; 3]>,
}
