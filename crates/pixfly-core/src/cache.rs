//! The per-image cache inside a bundle: what a re-run needs so it never decodes an image twice.
//!
//! Keyed by the file's content hash and the thumbnail settings. An entry is two files: the
//! thumbnail (in `thumbs/`, part of the bundle) and, written after it, a `.cell` file in
//! `cache/` holding the image's sizes and its atlas cell as raw RGB; the `.cell` file's presence
//! means the entry is complete. Two files, not more: on a 2-core machine creating files is a
//! real share of the cost of ingesting a small image.

use crate::bundle::write::{WriteError, write_atomic};
use image::RgbImage;
use std::path::{Path, PathBuf};

pub const THUMB_QUALITY: u8 = 85;
const MAGIC: &[u8; 4] = b"PXC1";
const HEADER: usize = 20;

/// What a finished cache entry records about one image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CachedImage {
    /// Size of the original, upright.
    pub width: u32,
    pub height: u32,
    /// Size of the atlas cell picture.
    pub cell_width: u32,
    pub cell_height: u32,
}

/// Where one bundle keeps its per-image work for one choice of cell and thumbnail size.
#[derive(Debug, Clone)]
pub struct ImageCache {
    bundle: PathBuf,
    dir: PathBuf,
    thumb_size: u32,
}

impl ImageCache {
    pub fn new(bundle: &Path, cell_size: u32, thumb_size: u32) -> ImageCache {
        let dir = bundle.join("cache").join(format!("v1-cell{cell_size}-thumb{thumb_size}"));
        ImageCache { bundle: bundle.to_path_buf(), dir, thumb_size }
    }

    /// The thumbnail's path relative to the bundle (what the manifest records).
    pub fn thumb_path(&self, hash: &str) -> String {
        format!("thumbs/{}_{}.jpg", &hash[..32], self.thumb_size)
    }

    fn cell_path(&self, hash: &str) -> PathBuf {
        self.dir.join(format!("{}.cell", &hash[..32]))
    }

    /// A finished entry's record, if there is one; a damaged or partial entry counts as missing.
    pub fn get(&self, hash: &str) -> Option<CachedImage> {
        let bytes = std::fs::read(self.cell_path(hash)).ok()?;
        let record = parse_record(&bytes)?;
        self.bundle.join(self.thumb_path(hash)).is_file().then_some(record)
    }

    /// Store the work for one image; the thumbnail goes first so a crash leaves no false entry.
    pub fn put(
        &self,
        hash: &str,
        record: CachedImage,
        thumb: &RgbImage,
        cell: &RgbImage,
    ) -> Result<(), WriteError> {
        write_atomic(&self.bundle.join(self.thumb_path(hash)), &crate::encode::jpeg(thumb, THUMB_QUALITY))?;
        let mut bytes = Vec::with_capacity(HEADER + cell.as_raw().len());
        bytes.extend_from_slice(MAGIC);
        for v in [record.width, record.height, record.cell_width, record.cell_height] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(cell.as_raw());
        write_atomic(&self.cell_path(hash), &bytes)
    }

    /// The atlas cell picture of a finished entry.
    pub fn cell(&self, hash: &str) -> Result<RgbImage, String> {
        let path = self.cell_path(hash);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        parse_record(&bytes)
            .and_then(|r| RgbImage::from_raw(r.cell_width, r.cell_height, bytes[HEADER..].to_vec()))
            .ok_or_else(|| format!("{} is damaged", path.display()))
    }
}

/// The record in a `.cell` file, if the file is whole (its length matches the cell it declares).
fn parse_record(bytes: &[u8]) -> Option<CachedImage> {
    if bytes.len() < HEADER || &bytes[..4] != MAGIC {
        return None;
    }
    let field = |i: usize| u32::from_le_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().expect("4 bytes"));
    let record =
        CachedImage { width: field(0), height: field(1), cell_width: field(2), cell_height: field(3) };
    let cell_bytes = u64::from(record.cell_width) * u64::from(record.cell_height) * 3;
    (cell_bytes == (bytes.len() - HEADER) as u64).then_some(record)
}
