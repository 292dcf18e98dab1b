//! One file per image and model (`cache/embed-<model>-<fingerprint>/<hash>.emb`), so a second
//! build runs the network on nothing it has seen, and a different model file starts afresh.
//!
//! Layout: `PXE1`, u32 dims, u32 class count, dims × f32, then (u32 class, f32 probability)
//! pairs; all little-endian.

use super::{Embedding, ModelInfo};
use crate::bundle::write::{WriteError, write_atomic};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"PXE1";

#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    dir: PathBuf,
    dims: usize,
}

impl EmbeddingCache {
    pub fn new(bundle: &Path, model: &ModelInfo) -> EmbeddingCache {
        let dir = bundle.join("cache").join(format!("embed-{}-{}", model.id, model.fingerprint));
        EmbeddingCache { dir, dims: model.dims }
    }

    /// The entry's file (whether or not it exists).
    pub fn path(&self, hash: &str) -> PathBuf {
        self.dir.join(format!("{}.emb", &hash[..32]))
    }

    /// A finished entry; a damaged or partial one counts as missing.
    pub fn get(&self, hash: &str) -> Option<Embedding> {
        let bytes = std::fs::read(self.path(hash)).ok()?;
        if bytes.len() < 12 || &bytes[..4] != MAGIC {
            return None;
        }
        let word = |i: usize| u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        let (dims, classes) = (word(1) as usize, word(2) as usize);
        if dims != self.dims || bytes.len() != 12 + 4 * dims + 8 * classes {
            return None;
        }
        let float = |i: usize| f32::from_bits(word(i));
        let vector = (3..3 + dims).map(float).collect();
        let top_classes = (0..classes).map(|k| 3 + dims + 2 * k).map(|i| (word(i), float(i + 1))).collect();
        Some(Embedding { vector, top_classes })
    }

    pub fn put(&self, hash: &str, embedding: &Embedding) -> Result<(), WriteError> {
        let mut bytes = Vec::with_capacity(12 + 4 * embedding.vector.len() + 8 * embedding.top_classes.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(embedding.vector.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(embedding.top_classes.len() as u32).to_le_bytes());
        for v in &embedding.vector {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        for (class, p) in &embedding.top_classes {
            bytes.extend_from_slice(&class.to_le_bytes());
            bytes.extend_from_slice(&p.to_le_bytes());
        }
        write_atomic(&self.path(hash), &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let info = ModelInfo {
            id: "m".into(),
            fingerprint: "f".into(),
            input_size: 224,
            crop_fraction: 0.875,
            mean: 127.0,
            std: 128.0,
            dims: 3,
            classes: Vec::new(),
        };
        let cache = EmbeddingCache::new(dir.path(), &info);
        let hash = "a".repeat(64);
        let embedding = Embedding { vector: vec![0.6, 0.8, 0.0], top_classes: vec![(281, 0.5), (7, 0.25)] };
        assert_eq!(cache.get(&hash), None);
        cache.put(&hash, &embedding).unwrap();
        assert_eq!(cache.get(&hash), Some(embedding));
        let path = cache.path(&hash);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(cache.get(&hash), None);
    }
}
