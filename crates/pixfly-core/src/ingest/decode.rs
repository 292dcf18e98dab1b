//! Decoding any supported file into an upright 8-bit picture (RGB, or gray), safely.

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, RgbImage};
use std::io::Cursor;

/// Transparent pixels are composited onto this neutral grey (the same in R, G and B): it reads
/// as "no content" on both a dark and a light viewer background.
pub const MATTE: u8 = 128;

/// Default cap on decoded pixels (250 MP), against decompression bombs. Pillow's is similar.
pub const DEFAULT_MAX_PIXELS: u64 = 250_000_000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is empty")]
    Empty,
    #[error("not a supported image (JPEG, PNG, WebP, TIFF, GIF, BMP)")]
    UnknownFormat,
    #[error("{width}×{height} is {} megapixels, over the limit of {} (raise it with --max-megapixels)", (*width as u64 * *height as u64) / 1_000_000, limit / 1_000_000)]
    TooLarge { width: u32, height: u32, limit: u64 },
    #[error("unsupported kind of {format}: {reason}")]
    Unsupported { format: &'static str, reason: String },
    #[error("corrupt or truncated {format}: {reason}")]
    Corrupt { format: &'static str, reason: String },
}

/// An upright 8-bit picture. Grayscale stays one channel: a fifth of a typical archive's pixels
/// (scans, prints, star atlases), and every later step is then a third of the work.
#[derive(Debug)]
pub enum Picture {
    Rgb(RgbImage),
    Gray(GrayImage),
}

impl Picture {
    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            Picture::Rgb(rgb) => rgb.dimensions(),
            Picture::Gray(gray) => gray.dimensions(),
        }
    }

    /// Bytes per pixel.
    pub fn channels(&self) -> usize {
        match self {
            Picture::Rgb(_) => 3,
            Picture::Gray(_) => 1,
        }
    }

    pub fn as_raw(&self) -> &[u8] {
        match self {
            Picture::Rgb(rgb) => rgb.as_raw(),
            Picture::Gray(gray) => gray.as_raw(),
        }
    }
}

/// An upright picture, perhaps decoded at a reduced scale, and the original's upright size.
#[derive(Debug)]
pub struct Decoded {
    pub image: Picture,
    pub width: u32,
    pub height: u32,
}

/// Decode `bytes`, applying EXIF orientation and compositing alpha on [`MATTE`]. Where the
/// decoder can shrink while decoding (JPEG), the result keeps at least `min_long` pixels on its
/// longer side and `min_short` on its shorter side.
pub fn decode(bytes: &[u8], min_long: u32, min_short: u32, max_pixels: u64) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = image::guess_format(bytes).map_err(|_| DecodeError::UnknownFormat)?;
    match format {
        ImageFormat::Jpeg => decode_jpeg(bytes, (min_long, min_short), max_pixels),
        // Too large to hold, but readable row by row into a smaller copy: up to 16 times the
        // limit (4 gigapixels by default), which still bounds the time a decompression bomb takes.
        ImageFormat::Png | ImageFormat::Tiff => match decode_other(bytes, format, max_pixels) {
            Err(too_large @ DecodeError::TooLarge { width, height, .. }) => {
                check_pixels(width, height, max_pixels.saturating_mul(STREAMED))?;
                if format == ImageFormat::Png {
                    super::reduced::decode_png(bytes, min_long, min_short, too_large)
                } else {
                    super::reduced::decode_tiff(bytes, min_long, min_short, too_large)
                }
            }
            result => result,
        },
        ImageFormat::WebP | ImageFormat::Gif | ImageFormat::Bmp => decode_other(bytes, format, max_pixels),
        _ => Err(DecodeError::UnknownFormat),
    }
}

/// How many times `max_pixels` a picture read row by row (PNG) or shrunk while decoding (JPEG)
/// may have: memory stays bounded, but the time it takes grows with its pixels.
const STREAMED: u64 = 16;

fn format_name(format: ImageFormat) -> &'static str {
    format.extensions_str().first().copied().unwrap_or("image")
}

fn check_pixels(width: u32, height: u32, limit: u64) -> Result<(), DecodeError> {
    if u64::from(width) * u64::from(height) > limit {
        return Err(DecodeError::TooLarge { width, height, limit });
    }
    Ok(())
}

fn decode_other(bytes: &[u8], format: ImageFormat, max_pixels: u64) -> Result<Decoded, DecodeError> {
    let corrupt = |e: image::ImageError| match e {
        image::ImageError::Unsupported(e) => {
            DecodeError::Unsupported { format: format_name(format), reason: e.to_string() }
        }
        e => DecodeError::Corrupt { format: format_name(format), reason: e.to_string() },
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    reader.no_limits(); // we apply our own, below, with a clearer message
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, max_pixels)?;
    let mut limits = image::Limits::no_limits();
    // Room for the largest decoded buffer (16-bit RGBA) plus decoder scratch space.
    limits.max_alloc = Some(max_pixels.saturating_mul(8) + (64 << 20));
    decoder.set_limits(limits).map_err(corrupt)?;
    // A broken orientation tag is not worth losing the picture for.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    Ok(Decoded { image: flatten(image), width, height })
}

/// Drop alpha by compositing onto [`MATTE`]; convert any depth or colour model to 8-bit RGB,
/// or gray for grayscale pictures. The common 8-bit cases are spelled out: image's generic
/// conversions are several times slower.
pub(super) fn flatten(image: DynamicImage) -> Picture {
    let (w, h) = (image.width(), image.height());
    let rgb = |pixels| Picture::Rgb(RgbImage::from_raw(w, h, pixels).expect("three bytes per pixel"));
    let gray = |pixels| Picture::Gray(GrayImage::from_raw(w, h, pixels).expect("one byte per pixel"));
    match image {
        DynamicImage::ImageRgb8(image) => Picture::Rgb(image),
        DynamicImage::ImageLuma8(image) => Picture::Gray(image),
        DynamicImage::ImageRgba8(image) => rgb(composite::<4, 3>(image.as_raw())),
        DynamicImage::ImageLumaA8(image) => gray(composite::<2, 1>(image.as_raw())),
        other if !other.color().has_color() && other.color().has_alpha() => {
            gray(composite::<2, 1>(other.into_luma_alpha8().as_raw()))
        }
        other if !other.color().has_color() => Picture::Gray(other.into_luma8()),
        other if other.color().has_alpha() => rgb(composite::<4, 3>(other.into_rgba8().as_raw())),
        other => Picture::Rgb(other.into_rgb8()),
    }
}

/// Pixels of `IN` bytes, the last one alpha, onto the (gray) matte, as pixels of `OUT` bytes.
pub(super) fn composite<const IN: usize, const OUT: usize>(pixels: &[u8]) -> Vec<u8> {
    let mut out = vec![0; pixels.len() / IN * OUT];
    for (dst, p) in out.chunks_exact_mut(OUT).zip(pixels.chunks_exact(IN)) {
        let a = u32::from(p[IN - 1]);
        // Most pixels are fully opaque or fully clear: skip the arithmetic for them.
        match a {
            255 => dst.copy_from_slice(&p[..OUT]),
            0 => dst.fill(MATTE),
            _ => {
                for c in 0..OUT {
                    dst[c] = ((u32::from(p[c]) * a + u32::from(MATTE) * (255 - a) + 127) / 255) as u8;
                }
            }
        }
    }
    out
}

/// JPEG goes through `jpeg-decoder` because it can decode at 1/2, 1/4 or 1/8 scale: a 50 MP
/// scan becomes a thumbnail without ever holding 50 MP in memory.
fn decode_jpeg(
    bytes: &[u8],
    (min_long, min_short): (u32, u32),
    max_pixels: u64,
) -> Result<Decoded, DecodeError> {
    use jpeg_decoder::PixelFormat;
    let corrupt = |e: jpeg_decoder::Error| DecodeError::Corrupt { format: "jpeg", reason: e.to_string() };
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(corrupt)?;
    let info = decoder.info().ok_or(DecodeError::UnknownFormat)?;
    let (full_w, full_h) = (u32::from(info.width), u32::from(info.height));
    if full_w == 0 || full_h == 0 {
        return Err(DecodeError::Corrupt { format: "jpeg", reason: "zero width or height".into() });
    }
    // The decoder picks the smallest scale that reaches the requested size on either axis, so
    // ask for the original's shape at the scale both minimums need.
    let need = (f64::from(min_long) / f64::from(full_w.max(full_h)))
        .max(f64::from(min_short) / f64::from(full_w.min(full_h)))
        .min(1.0);
    let request = |side: u32| (f64::from(side) * need).ceil().clamp(1.0, f64::from(u16::MAX)) as u16;
    let (w, h) = decoder.scale(request(full_w), request(full_h)).map_err(corrupt)?;
    let (w, h) = (u32::from(w), u32::from(h));
    check_pixels(w, h, max_pixels)?;
    // Progressive JPEGs keep full-size coefficients while decoding: bound that too.
    let full_pixels = u64::from(full_w) * u64::from(full_h);
    check_pixels(full_w, full_h, max_pixels.saturating_mul(STREAMED))?;
    decoder.set_max_decoding_buffer_size(usize::try_from(full_pixels * 8).unwrap_or(usize::MAX));
    let pixels = decoder.decode().map_err(corrupt)?;
    let orientation =
        decoder.exif_data().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    let short = || DecodeError::Corrupt { format: "jpeg", reason: "decoded data is short".into() };
    let mut image = match info.pixel_format {
        PixelFormat::RGB24 => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels).ok_or_else(short)?),
        PixelFormat::L8 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels).ok_or_else(short)?),
        PixelFormat::L16 => {
            let values: Vec<u16> = pixels.chunks_exact(2).map(|b| u16::from_ne_bytes([b[0], b[1]])).collect();
            // 12- and 16-bit JPEGs store fewer meaningful bits than u16 holds; scale by the peak.
            let peak = u32::from(values.iter().copied().max().unwrap_or(1).max(1));
            let gray: Vec<u8> = values.iter().map(|&v| (u32::from(v) * 255 / peak) as u8).collect();
            DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, gray).ok_or_else(short)?)
        }
        PixelFormat::CMYK32 => DynamicImage::ImageRgb8(cmyk_to_rgb(w, h, &pixels).ok_or_else(short)?),
    };
    image.apply_orientation(orientation);
    let (width, height) = upright_size(orientation, full_w, full_h);
    Ok(Decoded { image: flatten(image), width, height })
}

/// The size of a `width × height` picture once `orientation` is applied.
pub(super) fn upright_size(orientation: Orientation, width: u32, height: u32) -> (u32, u32) {
    match orientation {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => (height, width),
        _ => (width, height),
    }
}

/// jpeg-decoder hands CMYK as ink amounts (Adobe's inversion already undone).
fn cmyk_to_rgb(width: u32, height: u32, cmyk: &[u8]) -> Option<RgbImage> {
    let rgb: Vec<u8> = cmyk
        .chunks_exact(4)
        .flat_map(|p| {
            let k = 255 - u16::from(p[3]);
            [0, 1, 2].map(|i| ((255 - u16::from(p[i])) * k / 255) as u8)
        })
        .collect();
    RgbImage::from_raw(width, height, rgb)
}
