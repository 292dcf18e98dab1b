//! Shrinking pictures into close-up thumbnails and atlas cells, in linear light.
//!
//! Averaging sRGB values directly darkens fine detail (a starfield turns grey); we convert to
//! linear light (16-bit), shrink (block average, then Catmull-Rom bicubic, as Pillow's
//! thumbnails do), and convert back.

use super::decode::Picture;
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

/// A picture in linear light, 0..=65535 per channel: RGB, or gray when `channels` is 1.
struct Linear {
    width: u32,
    height: u32,
    channels: usize,
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
    let (from, to) =
        (ImageSize::new(src.width as usize, src.height as usize), ImageSize::new(w as usize, h as usize));
    let pixels = if src.channels == 3 {
        let store = ImageStore::<u16, 3>::from_slice(&src.pixels, from.width, from.height);
        let mut out = ImageStoreMut::<u16, 3>::alloc_with_depth(to.width, to.height, 16);
        store
            .and_then(|store| scaler.plan_rgb_resampling16(from, to, 16)?.resample(&store, &mut out))
            .map(|()| out.as_bytes().to_vec())
    } else {
        let store = ImageStore::<u16, 1>::from_slice(&src.pixels, from.width, from.height);
        let mut out = ImageStoreMut::<u16, 1>::alloc_with_depth(to.width, to.height, 16);
        store
            .and_then(|store| scaler.plan_planar_resampling16(from, to, 16)?.resample(&store, &mut out))
            .map(|()| out.as_bytes().to_vec())
    };
    let pixels = pixels.expect("non-empty images whose buffers match their size and depth");
    Linear { width: w, height: h, channels: src.channels, pixels }
}

fn to_srgb8(linear: &Linear) -> RgbImage {
    let lut = srgb_lut();
    let bytes = if linear.channels == 3 {
        linear.pixels.iter().map(|&v| lut[v as usize]).collect()
    } else {
        linear.pixels.iter().flat_map(|&v| [lut[v as usize]; 3]).collect()
    };
    RgbImage::from_raw(linear.width, linear.height, bytes).expect("three values per pixel")
}

pub fn make_thumbnails(picture: Picture, thumb_size: u32, cell_size: u32) -> Thumbnails {
    let (w, h) = picture.dimensions();
    // Bicubic costs ~4 taps per source pixel; first averaging k×k blocks (in linear light) down
    // to at least twice the target costs one add per pixel and looks the same afterwards
    // (Pillow's `reduce` + `reducing_gap`). This is most of the time spent on a large image.
    let k = (w.max(h) / (2 * thumb_size)).clamp(1, MAX_BLOCK);
    let linear = match picture.channels() {
        3 => reduce_to_linear::<3>(&picture, k),
        _ => reduce_to_linear::<1>(&picture, k),
    };
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
fn reduce_to_linear<const N: usize>(src: &Picture, k: u32) -> Linear {
    let lut = linear_lut();
    let (w, h) = src.dimensions();
    let (ow, oh) = (w.div_ceil(k), h.div_ceil(k));
    if k == 1 {
        let pixels = src.as_raw().iter().map(|&v| lut[v as usize] as u16).collect();
        return Linear { width: w, height: h, channels: N, pixels };
    }
    let mut pixels = vec![0u16; ow as usize * oh as usize * N];
    let (k, row_len) = (k as usize, w as usize * N);
    let mut sums = vec![0u32; ow as usize * N];
    for (oy, out_row) in pixels.chunks_exact_mut(ow as usize * N).enumerate() {
        sums.fill(0);
        let rows =
            src.as_raw()[oy * k * row_len..((oy + 1) * k).min(h as usize) * row_len].chunks_exact(row_len);
        let block_rows = rows.len();
        for row in rows {
            for (ox, sum) in sums.chunks_exact_mut(N).enumerate() {
                let block = &row[ox * k * N..((ox + 1) * k * N).min(row_len)];
                let mut block_sum = [0; N];
                for px in block.chunks_exact(N) {
                    for c in 0..N {
                        block_sum[c] += lut[px[c] as usize];
                    }
                }
                for c in 0..N {
                    sum[c] += block_sum[c];
                }
            }
        }
        for (ox, (out_px, sum)) in out_row.chunks_exact_mut(N).zip(sums.chunks_exact(N)).enumerate() {
            // A multiply, not a division: three divisions per pixel were a quarter of the work.
            let inverse = 1.0 / ((w as usize - ox * k).min(k) * block_rows) as f64;
            for c in 0..N {
                out_px[c] = (f64::from(sum[c]) * inverse + 0.5) as u16;
            }
        }
    }
    Linear { width: ow, height: oh, channels: N, pixels }
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
        let t = make_thumbnails(Picture::Rgb(board), 32, 8);
        let v = t.cell.get_pixel(4, 4).0[0];
        assert!((180..=196).contains(&v), "got {v}");
    }

    #[test]
    fn block_reduction_averages_edges_over_the_pixels_they_have() {
        // 5×3 with k = 2: blocks of 2×2, 1×2, 2×1 and 1×1 pixels.
        let src = RgbImage::from_fn(5, 3, |x, _| image::Rgb([if x < 4 { 255 } else { 0 }, 0, 255]));
        let out = reduce_to_linear::<3>(&Picture::Rgb(src), 2);
        assert_eq!((out.width, out.height), (3, 2));
        let px = |i: usize| [0, 1, 2].map(|c| out.pixels[i * 3 + c]);
        assert_eq!(px(0), [65535, 0, 65535]);
        assert_eq!(px(2), [0, 0, 65535]); // the 1×2 edge block holds only black-red pixels
        assert_eq!(px(4), [65535, 0, 65535]); // the 2×1 bottom block
    }

    #[test]
    fn small_images_are_not_enlarged_as_thumbs_but_fill_cells() {
        let tiny = RgbImage::from_pixel(3, 2, image::Rgb([10, 200, 30]));
        let t = make_thumbnails(Picture::Rgb(tiny), 256, 64);
        assert_eq!(t.thumb.dimensions(), (3, 2));
        assert_eq!(t.cell.dimensions(), (64, 43));
        assert_eq!(t.cell.get_pixel(30, 20).0, [10, 200, 30]);
    }

    #[test]
    fn gray_pictures_give_the_same_thumbnails_as_their_rgb_copies() {
        let gray = image::GrayImage::from_fn(700, 300, |x, y| image::Luma([((x * 7 + y * 3) % 256) as u8]));
        let from_rgb =
            make_thumbnails(Picture::Rgb(image::DynamicImage::ImageLuma8(gray.clone()).into_rgb8()), 256, 64);
        let from_gray = make_thumbnails(Picture::Gray(gray), 256, 64);
        for (a, b) in [(&from_rgb.thumb, &from_gray.thumb), (&from_rgb.cell, &from_gray.cell)] {
            assert_eq!(a.dimensions(), b.dimensions());
            let worst = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| x.abs_diff(*y)).max();
            assert!(worst <= Some(1), "differ by {worst:?}");
        }
    }

    #[test]
    fn extreme_shapes_still_make_thumbnails() {
        for (w, h) in [(1, 1), (1, 5000), (5000, 1), (2, 700), (9000, 3)] {
            let picture = RgbImage::from_pixel(w, h, image::Rgb([200, 100, 50]));
            let t = make_thumbnails(Picture::Rgb(picture), 256, 64);
            assert_eq!(t.cell.dimensions(), fit(w, h, 64), "{w}×{h}");
            let centre = t.cell.get_pixel(t.cell.width() / 2, t.cell.height() / 2).0;
            assert!(
                centre.iter().zip([200, 100, 50]).all(|(a, b)| a.abs_diff(b) <= 1),
                "{w}×{h}: {centre:?}"
            );
        }
    }
}
