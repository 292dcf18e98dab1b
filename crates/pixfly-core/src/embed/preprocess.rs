//! Turning a decoded picture into what the network was trained on: the centre of the picture,
//! a square of `crop_fraction` of its shorter side, resized (bicubic, in sRGB as in training)
//! to the input size. Equal to "resize the short side to size/crop_fraction, then centre-crop
//! size × size", done in one resampling step.

use super::ModelInfo;
use crate::ingest::decode::Picture;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

/// The shorter side a decoded picture needs for the network to see full detail.
pub fn min_short_side(info: &ModelInfo) -> u32 {
    (info.input_size as f32 / info.crop_fraction).ceil() as u32
}

pub fn model_input(picture: &Picture, info: &ModelInfo) -> RgbImage {
    let (w, h) = picture.dimensions();
    let side = f64::from(w.min(h)) * f64::from(info.crop_fraction);
    let (left, top) = ((f64::from(w) - side) / 2.0, (f64::from(h) - side) / 2.0);
    // Gray is resized as gray, then copied into R, G and B: a third of the work.
    let pixel_type = if picture.channels() == 3 { PixelType::U8x3 } else { PixelType::U8 };
    let src = ImageRef::new(w, h, picture.as_raw(), pixel_type).expect("buffers are w×h×channels");
    let size = info.input_size;
    let mut dst = Image::new(size, size, pixel_type);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom))
        .crop(left, top, side, side);
    Resizer::new().resize(&src, &mut dst, &options).expect("same pixel type, non-empty images");
    let rgb = match picture {
        Picture::Rgb(_) => dst.into_vec(),
        Picture::Gray(_) => dst.buffer().iter().flat_map(|&v| [v; 3]).collect(),
    };
    RgbImage::from_raw(size, size, rgb).expect("buffer sized by Image::new")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ModelInfo {
        ModelInfo {
            id: "test".into(),
            fingerprint: String::new(),
            input_size: 224,
            crop_fraction: 0.875,
            mean: 127.0,
            std: 128.0,
            dims: 4,
            classes: Vec::new(),
        }
    }

    #[test]
    fn keeps_the_centre_of_the_shorter_side() {
        // 512×256: left quarter red, right three quarters blue; the centred 224×224 crop of the
        // 256 px short side spans x 144..368 of 512, all blue.
        let picture =
            RgbImage::from_fn(512, 256, |x, _| image::Rgb(if x < 128 { [255, 0, 0] } else { [0, 0, 255] }));
        let input = model_input(&Picture::Rgb(picture), &info());
        assert_eq!(input.dimensions(), (224, 224));
        assert_eq!(input.get_pixel(0, 100).0, [0, 0, 255]);
        assert_eq!(min_short_side(&info()), 256);
    }

    #[test]
    fn enlarges_tiny_pictures() {
        let picture = RgbImage::from_pixel(3, 5, image::Rgb([10, 20, 30]));
        let input = model_input(&Picture::Rgb(picture), &info());
        assert_eq!(input.get_pixel(111, 111).0, [10, 20, 30]);
    }

    #[test]
    fn gray_pictures_give_the_input_of_their_rgb_copies() {
        let gray = image::GrayImage::from_fn(300, 260, |x, y| image::Luma([((x * 5 + y) % 256) as u8]));
        let rgb = image::DynamicImage::ImageLuma8(gray.clone()).into_rgb8();
        let from_gray = model_input(&Picture::Gray(gray), &info());
        assert_eq!(from_gray, model_input(&Picture::Rgb(rgb), &info()));
    }
}
