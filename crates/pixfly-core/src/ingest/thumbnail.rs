//! Shrinking pictures into close-up thumbnails and atlas cells, in linear light.
//!
//! Averaging sRGB values directly darkens fine detail (a starfield turns grey); we convert to
//! linear light (16-bit), shrink (block average, then Catmull-Rom bicubic, as Pillow's
//! thumbnails do), and convert back.

use image::RgbImage;
use pic_scale::{ImageSize, ImageStore, ImageStoreMut, ResamplingFunction, Scaler, ThreadingPolicy};
use std::sync::OnceLock;

/// The two sizes every image is reduced to.
#[derive(Debug)]
pub struct Thumbnails {
    /// Longest side at most `thumb_size` (never enlarged).
    pub thumb: RgbImage,
    /// Fits `cell_size × cell_size`, aspect kept; small images are enlarged so every cell is full.
    pub cell: RgbImage,
}

/// A picture in linear light: RGB, 0..=65535 per channel.
struct Linear {
    width: u32,
    height: u32,
    pixels: Vec<u16>,
}

/// Size that fits `(w, h)` into a `side × side` square, aspect kept, at least 1 pixel.
pub fn fit(w: u32, h: u32, side: u32) -> (u32, u32) {
    let scale = f64::from(side) / f64::from(w.max(h));
    let dim = |v: u32| ((f64::from(v) * scale).round() as u32).clamp(1, side);
    (dim(w), dim(h))
}

/// Catmull-Rom bicubic, in 16 bits. pic-scale, not fast_image_resize, because at 16 bits the
/// latter sums in 64-bit lanes and took twice as long: this is a fifth of all ingest time.
fn resize(src: &Linear, w: u32, h: u32) -> Linear {
    let mut scaler = Scaler::new(ResamplingFunction::CatmullRom);
    scaler.set_threading_policy(ThreadingPolicy::Single); // images are already one per thread
    let size = |w: u32, h: u32| ImageSize::new(w as usize, h as usize);
    let store = ImageStore::<u16, 3>::from_slice(&src.pixels, src.width as usize, src.height as usize)
        .expect("buffer is width × height × 3");
    let mut out = ImageStoreMut::<u16, 3>::alloc_with_depth(w as usize, h as usize, 16);
    scaler
        .plan_rgb_resampling16(size(src.width, src.height), size(w, h), 16)
        .and_then(|plan| plan.resample(&store, &mut out))
        .expect("non-empty images of matching depth");
    Linear { width: w, height: h, pixels: out.as_bytes().to_vec() }
}

fn to_srgb8(linear: &Linear) -> RgbImage {
    let lut = srgb_lut();
    let bytes = linear.pixels.iter().map(|&v| lut[v as usize]).collect();
    RgbImage::from_raw(linear.width, linear.height, bytes).expect("three values per pixel")
}

pub fn make_thumbnails(picture: RgbImage, thumb_size: u32, cell_size: u32) -> Thumbnails {
    let (w, h) = picture.dimensions();
    // Bicubic costs ~4 taps per source pixel; first averaging k×k blocks (in linear light) down
    // to at least twice the target costs one add per pixel and looks the same afterwards
    // (Pillow's `reduce` + `reducing_gap`). This is most of the time spent on a large image.
    let k = (w.max(h) / (2 * thumb_size)).clamp(1, MAX_BLOCK);
    let linear = reduce_to_linear(&picture, k);
    drop(picture);

    let thumb = if w.max(h) > thumb_size {
        let (tw, th) = fit(w, h, thumb_size);
        resize(&linear, tw, th)
    } else {
        linear
    };
    // The cell comes from the thumb when that is big enough: same quality, far less work.
    let (cw, ch) = fit(w, h, cell_size);
    let cell = resize(&thumb, cw, ch);
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

/// Linear light 0..=65535 → the nearest sRGB byte.
fn srgb_lut() -> &'static [u8] {
    static LUT: OnceLock<Vec<u8>> = OnceLock::new();
    LUT.get_or_init(|| {
        (0..=u16::MAX)
            .map(|v| {
                let l = f64::from(v) / 65535.0;
                let c = if l <= 0.0031308 { l * 12.92 } else { 1.055 * l.powf(1.0 / 2.4) - 0.055 };
                (c * 255.0).round() as u8
            })
            .collect()
    })
}

/// Convert to linear light (16-bit) while averaging `k × k` blocks; edge blocks average the
/// pixels they have. With `k = 1` this is a plain conversion.
fn reduce_to_linear(src: &RgbImage, k: u32) -> Linear {
    let lut = linear_lut();
    let (w, h) = src.dimensions();
    let (ow, oh) = (w.div_ceil(k), h.div_ceil(k));
    if k == 1 {
        let pixels = src.as_raw().iter().map(|&v| lut[v as usize] as u16).collect();
        return Linear { width: w, height: h, pixels };
    }
    let mut pixels = vec![0u16; ow as usize * oh as usize * 3];
    let (k, w3) = (k as usize, w as usize * 3);
    let mut sums = vec![0u32; ow as usize * 3];
    for (oy, out_row) in pixels.chunks_exact_mut(ow as usize * 3).enumerate() {
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
        for (ox, (out_px, sum)) in out_row.chunks_exact_mut(3).zip(sums.chunks_exact(3)).enumerate() {
            let n = ((w as usize - ox * k).min(k) * block_rows) as u32;
            for c in 0..3 {
                out_px[c] = ((sum[c] + n / 2) / n) as u16;
            }
        }
    }
    Linear { width: ow, height: oh, pixels }
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
        assert_eq!((out.width, out.height), (3, 2));
        let px = |i: usize| [0, 1, 2].map(|c| out.pixels[i * 3 + c]);
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
