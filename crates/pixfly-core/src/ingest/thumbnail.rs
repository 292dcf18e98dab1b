//! Shrinking pictures into close-up thumbnails and atlas cells, in linear light.
//!
//! Averaging sRGB values directly darkens fine detail (a starfield turns grey); we convert to
//! linear light (16-bit), filter with Lanczos3, and convert back.

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
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
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
    let src = Image::from_vec_u8(w, h, picture.into_raw(), PixelType::U8x3)
        .expect("RgbImage buffers are exactly w×h×3");
    let mut linear = Image::new(w, h, PixelType::U16x3);
    srgb().forward_map(&src, &mut linear).expect("U8x3 maps to U16x3");
    drop(src);

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
    fn small_images_are_not_enlarged_as_thumbs_but_fill_cells() {
        let tiny = RgbImage::from_pixel(3, 2, image::Rgb([10, 200, 30]));
        let t = make_thumbnails(tiny, 256, 64);
        assert_eq!(t.thumb.dimensions(), (3, 2));
        assert_eq!(t.cell.dimensions(), (64, 43));
        assert_eq!(t.cell.get_pixel(30, 20).0, [10, 200, 30]);
    }
}
