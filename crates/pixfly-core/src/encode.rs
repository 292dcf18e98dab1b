//! JPEG output for thumbnails and atlases (SIMD encoder: several times faster than image's).

use image::RgbImage;

/// Encode an RGB picture (sides ≤ 65535) as a baseline JPEG.
pub fn jpeg(picture: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let side = |v: u32| u16::try_from(v).expect("thumbnails and atlases are at most 4096 px");
    let (w, h) = picture.dimensions();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(picture.as_raw(), side(w), side(h), jpeg_encoder::ColorType::Rgb)
        .expect("an in-memory RGB picture within JPEG's size limit encodes");
    out
}
