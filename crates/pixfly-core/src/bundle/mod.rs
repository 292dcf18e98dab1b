//! The bundle: the one contract between building and viewing (see `docs/bundle.md`).
//!
//! Reading works everywhere, wasm included: hand [`Bundle::from_parts`] the manifest bytes and a
//! way to fetch the layout files. [`Bundle::open`] does the same from a folder.

#[cfg(not(target_arch = "wasm32"))]
pub mod folder;
mod manifest;
#[cfg(feature = "build")]
pub mod ownership;
#[cfg(feature = "build")]
pub mod pictures;
mod validate;
#[cfg(feature = "build")]
pub mod write;

pub use manifest::*;
pub use validate::{
    check_relative_path, encode_neighbours, encode_positions, parse_neighbours, parse_positions,
    validate_manifest,
};

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot read {path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("manifest.json is not valid bundle JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "bundle schema version {found} is not supported (this pixfly reads version {supported}); rebuild the bundle with this pixfly"
    )]
    Version { found: u32, supported: u32 },
    #[error("invalid bundle: {0}")]
    Invalid(String),
}

/// A validated bundle: its manifest and every layout's positions, in image order.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub manifest: Manifest,
    /// One entry per `manifest.layouts`, each `image_count` long.
    pub positions: Vec<Vec<[f32; 3]>>,
    /// `image_count × manifest.neighbours.k` ids, most similar first (empty without them).
    pub neighbours: Vec<u32>,
}

/// Parse and validate a manifest.
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest, BundleError> {
    // Straight into the types: going through a `serde_json::Value` first took twice as long and
    // held the manifest twice (270 MB of JSON at a million images).
    let manifest = serde_json::from_slice::<Manifest>(bytes).map_err(|error| {
        // A future bundle should say "too new", not "bad field".
        #[derive(serde::Deserialize)]
        struct Versioned {
            version: Option<u64>,
        }
        match serde_json::from_slice::<Versioned>(bytes) {
            Ok(Versioned { version: Some(found) }) if found != u64::from(SCHEMA_VERSION) => {
                BundleError::Version {
                    found: u32::try_from(found).unwrap_or(u32::MAX),
                    supported: SCHEMA_VERSION,
                }
            }
            _ => error.into(),
        }
    })?;
    validate_manifest(&manifest)?;
    Ok(manifest)
}

impl Bundle {
    /// Build a bundle from the manifest's bytes and a reader for the files it names
    /// (a file system, an HTTP fetch, a zip…), which is told the most bytes each file may hold.
    /// Everything is validated.
    pub fn from_parts(
        manifest_bytes: &[u8],
        read: impl FnMut(&str, u64) -> Result<Vec<u8>, BundleError>,
    ) -> Result<Bundle, BundleError> {
        Bundle::from_manifest(parse_manifest(manifest_bytes)?, read)
    }

    /// [`Bundle::from_parts`] for a manifest already parsed with [`parse_manifest`] (to learn
    /// which files to fetch, say), so a large one is not parsed twice.
    pub fn from_manifest(
        manifest: Manifest,
        mut read: impl FnMut(&str, u64) -> Result<Vec<u8>, BundleError>,
    ) -> Result<Bundle, BundleError> {
        let count = manifest.image_count as usize;
        let layout_bytes = u64::from(manifest.image_count) * 12;
        let positions = manifest
            .layouts
            .iter()
            .map(|layout| parse_positions(&layout.name, &read(&layout.path, layout_bytes)?, count))
            .collect::<Result<_, _>>()?;
        let neighbours = match &manifest.neighbours {
            Some(info) => {
                let bytes = u64::from(manifest.image_count) * u64::from(info.k) * 4;
                parse_neighbours(&read(&info.path, bytes)?, count, info.k as usize)?
            }
            None => Vec::new(),
        };
        Ok(Bundle { manifest, positions, neighbours })
    }

    /// Open a bundle folder and check that every file the manifest names is there: a regular
    /// file inside the folder (see [`folder::BundleFolder`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn open(dir: &std::path::Path) -> Result<Bundle, BundleError> {
        let mut folder = folder::BundleFolder::new(dir)?;
        let manifest = folder.read(MANIFEST_FILE, folder::MAX_MANIFEST_BYTES)?;
        let bundle = Bundle::from_parts(&manifest, |rel, limit| folder.read(rel, limit))?;
        let m = &bundle.manifest;
        let named = m
            .atlases
            .iter()
            .map(|a| &a.path)
            .chain(m.images.iter().map(|i| &i.thumb))
            .chain(m.embedding.iter().map(|e| &e.path));
        for rel in named {
            folder.resolve(rel).map_err(|error| match error {
                BundleError::Io { cause, .. } if cause.kind() == std::io::ErrorKind::NotFound => {
                    BundleError::Invalid(format!("{rel} is listed in the manifest but missing"))
                }
                error => error,
            })?;
        }
        Ok(bundle)
    }

    /// Read the bundle's vectors (if it has them) and check they are the ones its manifest
    /// describes: same content hash, `image_count × dims`. Not part of [`Bundle::open`]: a
    /// viewer doesn't need them, and at 100,000 images they are half a gigabyte.
    #[cfg(feature = "build")]
    pub fn read_embeddings(
        &self,
        dir: &std::path::Path,
    ) -> Result<Option<ndarray::Array2<f32>>, BundleError> {
        let Some(info) = &self.manifest.embedding else { return Ok(None) };
        // The rows, and room for the .npy header.
        let limit = u64::from(self.manifest.image_count) * u64::from(info.dims) * 4 + (64 << 10);
        let bytes = folder::BundleFolder::new(dir)?.read(&info.path, limit)?;
        if blake3::hash(&bytes).to_hex().as_str() != info.hash {
            return Err(BundleError::Invalid(format!(
                "{} does not belong to this manifest (its hash differs)",
                info.path
            )));
        }
        let array = crate::embed::vectors::from_npy(&bytes)
            .map_err(|e| BundleError::Invalid(format!("{}: {e}", info.path)))?;
        let expected = [self.manifest.image_count as usize, info.dims as usize];
        if array.shape() != expected {
            return Err(BundleError::Invalid(format!(
                "{} is {:?}, expected {expected:?} (images × dims)",
                info.path,
                array.shape()
            )));
        }
        Ok(Some(array))
    }

    /// The images most similar to image `id`, most similar first.
    pub fn similar(&self, id: u32) -> &[u32] {
        let k = self.manifest.neighbours.as_ref().map_or(0, |n| n.k as usize);
        self.neighbours.get(id as usize * k..(id as usize + 1) * k).unwrap_or(&[])
    }

    /// Index of the layout called `name`.
    pub fn layout_index(&self, name: &str) -> Option<usize> {
        self.manifest.layouts.iter().position(|l| l.name == name)
    }
}
