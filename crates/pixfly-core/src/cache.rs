//! The per-image cache inside a bundle: what a re-run needs so it never decodes an image twice.
//!
//! Keyed by the file's content hash and the thumbnail settings. An entry is three files: the
//! thumbnail (in `thumbs/`, part of the bundle), the atlas cell (PNG, in `cache/`), and a small
//! JSON record written last, whose presence means the other two are complete.

use crate::bundle::write::write_atomic;
use image::{ImageEncoder, RgbImage};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const THUMB_QUALITY: u8 = 85;

/// What a finished cache entry records about one image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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

    fn record_path(&self, hash: &str) -> PathBuf {
        self.dir.join(format!("{}.json", &hash[..32]))
    }

    fn cell_path(&self, hash: &str) -> PathBuf {
        self.dir.join(format!("{}.png", &hash[..32]))
    }

    /// A finished entry, if there is one; an unreadable or partial entry counts as missing.
    pub fn get(&self, hash: &str) -> Option<CachedImage> {
        let record: CachedImage =
            serde_json::from_slice(&std::fs::read(self.record_path(hash)).ok()?).ok()?;
        let complete = self.cell_path(hash).is_file() && self.bundle.join(self.thumb_path(hash)).is_file();
        complete.then_some(record)
    }

    /// Store the work for one image; the record goes last so a crash leaves no false entry.
    pub fn put(
        &self,
        hash: &str,
        record: CachedImage,
        thumb: &RgbImage,
        cell: &RgbImage,
    ) -> std::io::Result<()> {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, THUMB_QUALITY)
            .encode_image(thumb)
            .map_err(std::io::Error::other)?;
        write_atomic(&self.bundle.join(self.thumb_path(hash)), &jpeg)?;
        write_atomic(&self.cell_path(hash), &encode_png(cell)?)?;
        write_atomic(&self.record_path(hash), &serde_json::to_vec(&record)?)
    }

    /// The atlas cell picture of a finished entry.
    pub fn cell(&self, hash: &str) -> Result<RgbImage, String> {
        let path = self.cell_path(hash);
        image::open(&path).map(|i| i.into_rgb8()).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn encode_png(picture: &RgbImage) -> std::io::Result<Vec<u8>> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut png = Vec::new();
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Adaptive)
        .write_image(picture, picture.width(), picture.height(), image::ExtendedColorType::Rgb8)
        .map_err(std::io::Error::other)?;
    Ok(png)
}
