//! The bundle: the one contract between building and viewing (see `docs/bundle.md`).
//!
//! Reading works everywhere, wasm included: hand [`Bundle::from_parts`] the manifest bytes and a
//! way to fetch the layout files. [`Bundle::open`] does the same from a folder.

mod manifest;
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
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
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
    /// (a file system, an HTTP fetch, a zip…). Everything is validated.
    pub fn from_parts(
        manifest_bytes: &[u8],
        read: impl FnMut(&str) -> Result<Vec<u8>, BundleError>,
    ) -> Result<Bundle, BundleError> {
        Bundle::from_manifest(parse_manifest(manifest_bytes)?, read)
    }

    /// [`Bundle::from_parts`] for a manifest already parsed with [`parse_manifest`] (to learn
    /// which files to fetch, say), so a large one is not parsed twice.
    pub fn from_manifest(
        manifest: Manifest,
        mut read: impl FnMut(&str) -> Result<Vec<u8>, BundleError>,
    ) -> Result<Bundle, BundleError> {
        let count = manifest.image_count as usize;
        let positions = manifest
            .layouts
            .iter()
            .map(|layout| parse_positions(&layout.name, &read(&layout.path)?, count))
            .collect::<Result<_, _>>()?;
        let neighbours = match &manifest.neighbours {
            Some(info) => parse_neighbours(&read(&info.path)?, count, info.k as usize)?,
            None => Vec::new(),
        };
        Ok(Bundle { manifest, positions, neighbours })
    }

    /// Open a bundle folder and check that every file the manifest names is there.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn open(dir: &std::path::Path) -> Result<Bundle, BundleError> {
        let read = |rel: &str| {
            let path = dir.join(rel);
            std::fs::read(&path)
                .map_err(|source| BundleError::Io { path: path.display().to_string(), source })
        };
        let bundle = Bundle::from_parts(&read(MANIFEST_FILE)?, read)?;
        let m = &bundle.manifest;
        let named = m
            .atlases
            .iter()
            .map(|a| &a.path)
            .chain(m.images.iter().map(|i| &i.thumb))
            .chain(m.embedding.iter().map(|e| &e.path));
        for rel in named {
            if !dir.join(rel).is_file() {
                return Err(BundleError::Invalid(format!("{rel} is listed in the manifest but missing")));
            }
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
        let path = dir.join(&info.path);
        let bytes = std::fs::read(&path)
            .map_err(|source| BundleError::Io { path: path.display().to_string(), source })?;
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
