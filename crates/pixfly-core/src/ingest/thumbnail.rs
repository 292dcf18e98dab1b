//! Shrinking pictures into close-up thumbnails and atlas cells, in linear light.
//!
//! Averaging sRGB values directly darkens fine detail (a starfield turns grey); we convert to
//! linear light (16-bit), shrink (block average, then Catmull-Rom bicubic, as Pillow's
//! thumbnails do), and convert back.

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelComponentMapper, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;
use std::sync::OnceLock;

/// The two sizes every image is reduced to.
#[derive(Debug)]
pub struct Thumbnails {
    /// Longest side at most `thumb_size` (never enlarged).
    pub thumb: RgbImage,
    /// Fits `cell_size × cell_size`, aspect kept; small images are enlarged so every cell is full.
    pub cell: RgbImage,
}

fn srgb() -> &'static PixelComponentMapper {
    static MAPPER: OnceLock<PixelComponentMapper> = OnceLock::new();
    MAPPER.get_or_init(fast_image_resize::create_srgb_mapper)
}

/// Size that fits `(w, h)` into a `side × side` square, aspect kept, at least 1 pixel.
pub fn fit(w: u32, h: u32, side: u32) -> (u32, u32) {
    let scale = f64::from(side) / f64::from(w.max(h));
    let dim = |v: u32| ((f64::from(v) * scale).round() as u32).clamp(1, side);
    (dim(w), dim(h))
}

fn resize(resizer: &mut Resizer, src: &Image, w: u32, h: u32) -> Image<'static> {
    let mut dst = Image::new(w, h, src.pixel_type());
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    resizer
        .resize(src, &mut dst, &options)
        .expect("source and destination share a pixel type and are non-empty");
    dst
}

fn to_srgb8(linear: &Image) -> RgbImage {
    let mut out = Image::new(linear.width(), linear.height(), PixelType::U8x3);
    srgb().backward_map(linear, &mut out).expect("U16x3 maps to U8x3");
    RgbImage::from_raw(out.width(), out.height(), out.into_vec()).expect("buffer sized by Image::new")
}

pub fn make_thumbnails(picture: RgbImage, thumb_size: u32, cell_size: u32) -> Thumbnails {
    let (w, h) = picture.dimensions();
    // Bicubic costs ~4 taps per source pixel; first averaging k×k blocks (in linear light) down
    // to at least twice the target costs one add per pixel and looks the same afterwards
    // (Pillow's `reduce` + `reducing_gap`). This is most of the time spent on a large image.
    let k = (w.max(h) / (2 * thumb_size)).clamp(1, MAX_BLOCK);
    let linear = reduce_to_linear(&picture, k);
    drop(picture);

    let mut resizer = Resizer::new();
    let thumb = if w.max(h) > thumb_size {
        let (tw, th) = fit(w, h, thumb_size);
        resize(&mut resizer, &linear, tw, th)
    } else {
        linear
    };
    // The cell comes from the thumb when that is big enough: same quality, far less work.
    let (cw, ch) = fit(w, h, cell_size);
    let cell = resize(&mut resizer, &thumb, cw, ch);
    Thumbnails { thumb: to_srgb8(&thumb), cell: to_srgb8(&cell) }
}

/// Largest block side, so that block sums of 16-bit values fit in a u32.
const MAX_BLOCK: u32 = 255;

/// sRGB byte → linear light, 0..=65535.
fn linear_lut() -> &'static [u32; 256] {
    static LUT: OnceLock<[u32; 256]> = OnceLock::new();
    LUT.get_or_init(|| {
        std::array::from_fn(|i| {
            let c = i as f64 / 255.0;
            let linear = if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) };
            (linear * 65535.0).round() as u32
        })
    })
}

/// Convert to linear light (16-bit) while averaging `k × k` blocks; edge blocks average the
/// pixels they have. With `k = 1` this is a plain conversion.
fn reduce_to_linear(src: &RgbImage, k: u32) -> Image<'static> {
    let lut = linear_lut();
    let (w, h) = src.dimensions();
    let (ow, oh) = (w.div_ceil(k), h.div_ceil(k));
    let mut out = Image::new(ow, oh, PixelType::U16x3);
    if k == 1 {
        let view = fast_image_resize::images::ImageRef::new(w, h, src.as_raw(), PixelType::U8x3)
            .expect("RgbImage buffers are exactly w×h×3");
        srgb().forward_map(&view, &mut out).expect("U8x3 maps to U16x3");
        return out;
    }
    let (k, w3) = (k as usize, w as usize * 3);
    let mut sums = vec![0u32; ow as usize * 3];
    for (oy, out_row) in out.buffer_mut().chunks_exact_mut(ow as usize * 6).enumerate() {
        sums.fill(0);
        let rows = src.as_raw()[oy * k * w3..((oy + 1) * k).min(h as usize) * w3].chunks_exact(w3);
        let block_rows = rows.len();
        for row in rows {
            for (ox, sum) in sums.chunks_exact_mut(3).enumerate() {
                let block = &row[ox * k * 3..((ox + 1) * k * 3).min(w3)];
                let (mut r, mut g, mut b) = (0, 0, 0);
                for px in block.chunks_exact(3) {
                    r += lut[px[0] as usize];
                    g += lut[px[1] as usize];
                    b += lut[px[2] as usize];
                }
                sum[0] += r;
                sum[1] += g;
                sum[2] += b;
            }
        }
        for (ox, (out_px, sum)) in out_row.chunks_exact_mut(6).zip(sums.chunks_exact(3)).enumerate() {
            let n = ((w as usize - ox * k).min(k) * block_rows) as u32;
            for c in 0..3 {
                let v = ((sum[c] + n / 2) / n) as u16;
                out_px[2 * c..2 * c + 2].copy_from_slice(&v.to_ne_bytes());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_never_returns_zero() {
        assert_eq!(fit(4000, 3000, 64), (64, 48));
        assert_eq!(fit(3000, 4000, 64), (48, 64));
        assert_eq!(fit(10000, 1, 64), (64, 1));
        assert_eq!(fit(1, 1, 64), (64, 64));
    }

    #[test]
    fn downscaling_averages_in_linear_light() {
        // A fine black/white checkerboard is half the light: linear 0.5 is sRGB ~188, not 128.
        let board = RgbImage::from_fn(256, 256, |x, y| {
            if (x + y) % 2 == 0 { image::Rgb([255; 3]) } else { image::Rgb([0; 3]) }
        });
        let t = make_thumbnails(board, 32, 8);
        let v = t.cell.get_pixel(4, 4).0[0];
        assert!((180..=196).contains(&v), "got {v}");
    }

    #[test]
    fn block_reduction_averages_edges_over_the_pixels_they_have() {
        // 5×3 with k = 2: blocks of 2×2, 1×2, 2×1 and 1×1 pixels.
        let src = RgbImage::from_fn(5, 3, |x, _| image::Rgb([if x < 4 { 255 } else { 0 }, 0, 255]));
        let out = reduce_to_linear(&src, 2);
        assert_eq!((out.width(), out.height()), (3, 2));
        let px = |i: usize| {
            let b = &out.buffer()[i * 6..i * 6 + 6];
            [0, 2, 4].map(|c| u16::from_ne_bytes([b[c], b[c + 1]]))
        };
        assert_eq!(px(0), [65535, 0, 65535]);
        assert_eq!(px(2), [0, 0, 65535]); // the 1×2 edge block holds only black-red pixels
        assert_eq!(px(4), [65535, 0, 65535]); // the 2×1 bottom block
    }

    #[test]
    fn small_images_are_not_enlarged_as_thumbs_but_fill_cells() {
        let tiny = RgbImage::from_pixel(3, 2, image::Rgb([10, 200, 30]));
        let t = make_thumbnails(tiny, 256, 64);
        assert_eq!(t.thumb.dimensions(), (3, 2));
        assert_eq!(t.cell.dimensions(), (64, 43));
        assert_eq!(t.cell.get_pixel(30, 20).0, [10, 200, 30]);
    }
}
