//! Pictures too large to hold decoded (a 20990 × 29700 scan is 623 megapixels, 1.9 GB as RGB),
//! read row by row into a copy reduced by a whole factor: memory stays a few rows, whatever the
//! size. PNG here; JPEG shrinks while decoding already (see `decode_jpeg`).

use super::decode::{DecodeError, Decoded, composite, flatten, upright_size};
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};
use std::io::Cursor;

/// The largest whole factor that keeps at least `min_long` pixels on the longer side and
/// `min_short` on the shorter.
fn reduction(width: u32, height: u32, min_long: u32, min_short: u32) -> u32 {
    let (long, short) = (width.max(height), width.min(height));
    let by_long = long / min_long.max(1);
    let by_short = short.checked_div(min_short).unwrap_or(u32::MAX);
    by_long.min(by_short).max(1)
}

/// Sums of `factor × factor` blocks of one band of rows, `channels` bytes a pixel.
struct BlockSums {
    factor: usize,
    channels: usize,
    width: usize,
    sums: Vec<u32>,
    rows: usize,
    out: Vec<u8>,
}

impl BlockSums {
    fn new(width: u32, factor: u32, channels: usize) -> BlockSums {
        let out_width = width.div_ceil(factor) as usize;
        BlockSums {
            factor: factor as usize,
            channels,
            width: width as usize,
            sums: vec![0; out_width * channels],
            rows: 0,
            out: Vec::new(),
        }
    }

    fn add(&mut self, row: &[u8]) {
        let (f, c) = (self.factor, self.channels);
        for (block, pixels) in self.sums.chunks_exact_mut(c).zip(row.chunks(f * c)) {
            for pixel in pixels.chunks_exact(c) {
                for (sum, &v) in block.iter_mut().zip(pixel) {
                    *sum += u32::from(v);
                }
            }
        }
        self.rows += 1;
    }

    /// Close the band: its mean pixels become one output row.
    fn emit(&mut self) {
        if self.rows == 0 {
            return;
        }
        let (f, c) = (self.factor, self.channels);
        for (i, sum) in self.sums.iter_mut().enumerate() {
            let columns = (self.width - (i / c) * f).min(f);
            let n = (columns * self.rows) as u32;
            self.out.push(((*sum + n / 2) / n) as u8);
            *sum = 0;
        }
        self.rows = 0;
    }
}

/// Rows in, a reduced picture out: alpha composited as `decode` does, then each `factor ×
/// factor` block averaged.
struct Reducer {
    width: u32,
    height: u32,
    /// Bytes per pixel coming in: 1 or 2 (gray, with alpha), 3 or 4 (RGB, with alpha).
    channels: usize,
    factor: u32,
    bands: BlockSums,
    rows: u32,
    format: &'static str,
}

impl Reducer {
    fn new(
        format: &'static str,
        width: u32,
        height: u32,
        channels: usize,
        min_long: u32,
        min_short: u32,
    ) -> Reducer {
        let factor = reduction(width, height, min_long, min_short);
        let out_channels = if channels <= 2 { 1 } else { 3 };
        Reducer {
            width,
            height,
            channels,
            factor,
            bands: BlockSums::new(width, factor, out_channels),
            rows: 0,
            format,
        }
    }

    fn row(&mut self, pixels: &[u8]) -> Result<(), DecodeError> {
        let pixels = pixels.get(..self.width as usize * self.channels).ok_or_else(|| {
            DecodeError::Corrupt { format: self.format, reason: format!("row {} is short", self.rows) }
        })?;
        match self.channels {
            2 => self.bands.add(&composite::<2, 1>(pixels)),
            4 => self.bands.add(&composite::<4, 3>(pixels)),
            _ => self.bands.add(pixels),
        }
        self.rows += 1;
        if self.rows.is_multiple_of(self.factor) {
            self.bands.emit();
        }
        Ok(())
    }

    /// The picture, upright, and the original's upright size.
    fn finish(mut self, orientation: Orientation) -> Result<Decoded, DecodeError> {
        if self.rows != self.height {
            return Err(DecodeError::Corrupt {
                format: self.format,
                reason: format!("{} of {} rows", self.rows, self.height),
            });
        }
        self.bands.emit();
        let out_width = self.width.div_ceil(self.factor);
        let out_height = self.height.div_ceil(self.factor);
        let pixels = self.bands.out;
        let short = || DecodeError::Corrupt { format: "image", reason: "no rows".into() };
        let mut image = if self.channels <= 2 {
            DynamicImage::ImageLuma8(GrayImage::from_raw(out_width, out_height, pixels).ok_or_else(short)?)
        } else {
            DynamicImage::ImageRgb8(RgbImage::from_raw(out_width, out_height, pixels).ok_or_else(short)?)
        };
        image.apply_orientation(orientation);
        let (width, height) = upright_size(orientation, self.width, self.height);
        let image = flatten(image);
        Ok(Decoded { image, width, height })
    }
}

/// Decode a PNG row by row into a copy reduced to about `min_long` × `min_short` (see
/// [`reduction`]). `too_large` is the answer for an interlaced PNG, whose rows come in seven
/// passes and cannot be streamed so.
pub fn decode_png(
    bytes: &[u8],
    min_long: u32,
    min_short: u32,
    too_large: DecodeError,
) -> Result<Decoded, DecodeError> {
    let corrupt = |e: png::DecodingError| DecodeError::Corrupt { format: "png", reason: e.to_string() };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: 256 << 20 });
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(corrupt)?;
    if reader.info().interlaced {
        return Err(too_large);
    }
    let (width, height) = (reader.info().width, reader.info().height);
    let orientation = reader
        .info()
        .exif_metadata
        .as_deref()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    let channels = match reader.output_color_type().0 {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(too_large),
    };
    let mut reducer = Reducer::new("png", width, height, channels, min_long, min_short);
    while let Some(row) = reader.next_row().map_err(corrupt)? {
        reducer.row(row.data())?;
    }
    reducer.finish(orientation)
}

/// Decode a strip or tiled TIFF (8- or 16-bit gray or RGB, with or without alpha, samples
/// interleaved) chunk by chunk into a reduced copy, as [`decode_png`] does. Anything else gets
/// `too_large`.
pub fn decode_tiff(
    bytes: &[u8],
    min_long: u32,
    min_short: u32,
    too_large: DecodeError,
) -> Result<Decoded, DecodeError> {
    use tiff::ColorType;
    use tiff::decoder::{ChunkType, Decoder, DecodingResult};
    let corrupt = |e: tiff::TiffError| DecodeError::Corrupt { format: "tiff", reason: e.to_string() };
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(corrupt)?;
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    let channels = match decoder.colortype().map_err(corrupt)? {
        ColorType::Gray(8 | 16) => 1,
        ColorType::GrayA(8 | 16) => 2,
        ColorType::RGB(8 | 16) => 3,
        ColorType::RGBA(8 | 16) => 4,
        _ => return Err(too_large),
    };
    let planar = decoder.find_tag_unsigned::<u16>(tiff::tags::Tag::PlanarConfiguration).ok().flatten();
    if planar.is_some_and(|p| p != 1) {
        return Err(too_large);
    }
    let (chunk_width, chunk_height) = decoder.chunk_dimensions();
    let across = match decoder.get_chunk_type() {
        ChunkType::Strip => 1,
        ChunkType::Tile => width.div_ceil(chunk_width.max(1)),
    };
    let bands = height.div_ceil(chunk_height.max(1));
    let mut reducer = Reducer::new("tiff", width, height, channels, min_long, min_short);
    // One band of chunks at a time: `chunk_height` full rows.
    let mut band = Vec::new();
    for b in 0..bands {
        let rows = chunk_height.min(height - b * chunk_height) as usize;
        band.clear();
        band.resize(rows * width as usize * channels, 0u8);
        let mut x0 = 0usize;
        for t in 0..across {
            let index = b * across + t;
            let (w, h) = decoder.chunk_data_dimensions(index);
            let samples: Vec<u8> = match decoder.read_chunk(index).map_err(corrupt)? {
                DecodingResult::U8(v) => v,
                DecodingResult::U16(v) => v.into_iter().map(|s| (s >> 8) as u8).collect(),
                _ => return Err(too_large),
            };
            let (w, h) = (w as usize * channels, h as usize);
            if samples.len() < w * h || h < rows || x0 + w > band.len() / rows.max(1) {
                return Err(DecodeError::Corrupt {
                    format: "tiff",
                    reason: format!("chunk {index} is short"),
                });
            }
            let stride = width as usize * channels;
            for (r, source) in samples.chunks_exact(w).take(rows).enumerate() {
                band[r * stride + x0..r * stride + x0 + w].copy_from_slice(source);
            }
            x0 += w;
        }
        for row in band.chunks_exact(width as usize * channels) {
            reducer.row(row)?;
        }
    }
    reducer.finish(Orientation::NoTransforms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Picture;
    use image::{ImageEncoder, Rgba, RgbaImage};

    #[test]
    fn a_large_png_comes_out_reduced_with_its_colours() {
        // Red top half, clear bottom half (composited onto the grey matte).
        let (w, h) = (3000, 2000);
        let picture =
            RgbaImage::from_fn(
                w,
                h,
                |_, y| if y < h / 2 { Rgba([255, 0, 0, 255]) } else { Rgba([0, 0, 0, 0]) },
            );
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(picture.as_raw(), w, h, image::ExtendedColorType::Rgba8)
            .unwrap();
        let decoded = decode_png(&png, 256, 224, DecodeError::Empty).unwrap();
        let mut tiff = Vec::new();
        image::codecs::tiff::TiffEncoder::new(Cursor::new(&mut tiff))
            .write_image(picture.as_raw(), w, h, image::ExtendedColorType::Rgba8)
            .unwrap();
        let from_tiff = decode_tiff(&tiff, 256, 224, DecodeError::Empty).unwrap();
        let Picture::Rgb(tiff_rgb) = from_tiff.image else { panic!("colour stays colour") };
        assert_eq!((decoded.width, decoded.height), (3000, 2000), "the original's size");
        let Picture::Rgb(rgb) = decoded.image else { panic!("colour stays colour") };
        assert_eq!(reduction(w, h, 256, 224), 8);
        assert_eq!(rgb.dimensions(), (375, 250));
        assert_eq!(rgb.get_pixel(100, 10).0, [255, 0, 0]);
        assert_eq!(rgb.get_pixel(100, 240).0, [128, 128, 128]);
        assert_eq!(tiff_rgb.as_raw(), rgb.as_raw(), "a TIFF of the same pixels, the same picture");
    }

    /// An uncompressed, tiled, 8-bit RGB TIFF (what scanners write for large images), written
    /// by hand: `image` writes strips only.
    fn tiled_tiff(width: u32, height: u32, tile: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let (across, down) = (width.div_ceil(tile), height.div_ceil(tile));
        let mut data = Vec::new();
        let mut offsets = Vec::new();
        for ty in 0..down {
            for tx in 0..across {
                offsets.push(8 + data.len() as u32);
                for y in ty * tile..(ty + 1) * tile {
                    for x in tx * tile..(tx + 1) * tile {
                        // Tiles are padded past the image's edge.
                        data.extend(if x < width && y < height { pixel(x, y) } else { [0, 0, 0] });
                    }
                }
            }
        }
        let count = offsets.len() as u32;
        let arrays = 8 + data.len() as u32; // offsets, byte counts, bits per sample
        let ifd = arrays + 8 * count + 6;
        let mut tiff = b"II*\0".to_vec();
        tiff.extend(ifd.to_le_bytes());
        tiff.extend(&data);
        offsets.iter().for_each(|o| tiff.extend(o.to_le_bytes()));
        (0..count).for_each(|_| tiff.extend((tile * tile * 3).to_le_bytes()));
        [8u16, 8, 8].iter().for_each(|b| tiff.extend(b.to_le_bytes()));
        // (tag, type: 3 short / 4 long, count, value or offset), in tag order.
        let entries: [(u16, u16, u32, u32); 11] = [
            (256, 4, 1, width),
            (257, 4, 1, height),
            (258, 3, 3, arrays + 8 * count),
            (259, 3, 1, 1),
            (262, 3, 1, 2),
            (277, 3, 1, 3),
            (284, 3, 1, 1),
            (322, 4, 1, tile),
            (323, 4, 1, tile),
            (324, 4, count, arrays),
            (325, 4, count, arrays + 4 * count),
        ];
        tiff.extend((entries.len() as u16).to_le_bytes());
        for (tag, kind, n, value) in entries {
            tiff.extend(tag.to_le_bytes());
            tiff.extend(kind.to_le_bytes());
            tiff.extend(n.to_le_bytes());
            if kind == 3 && n == 1 {
                tiff.extend((value as u16).to_le_bytes());
                tiff.extend([0, 0]);
            } else {
                tiff.extend(value.to_le_bytes());
            }
        }
        tiff.extend(0u32.to_le_bytes());
        tiff
    }

    #[test]
    fn a_tiled_tiff_is_read_tile_row_by_tile_row() {
        // Four quadrants; 100 × 70 in 32-pixel tiles leaves partial tiles on the right and bottom.
        let quadrant = |x: u32, y: u32| match (x < 50, y < 35) {
            (true, true) => [250, 0, 0],
            (false, true) => [0, 250, 0],
            (true, false) => [0, 0, 250],
            (false, false) => [250, 250, 250],
        };
        let tiff = tiled_tiff(100, 70, 32, quadrant);
        let whole = image::load_from_memory(&tiff).expect("a valid TIFF").into_rgb8();
        assert_eq!(whole.get_pixel(99, 69).0, [250, 250, 250], "as image reads it");
        let decoded = decode_tiff(&tiff, 20, 10, DecodeError::Empty).unwrap();
        assert_eq!((decoded.width, decoded.height), (100, 70));
        let Picture::Rgb(rgb) = decoded.image else { panic!("colour stays colour") };
        assert_eq!(rgb.dimensions(), (20, 14), "reduced 5×");
        for (x, y, want) in
            [(2, 2, [250, 0, 0]), (17, 2, [0, 250, 0]), (2, 12, [0, 0, 250]), (19, 13, [250; 3])]
        {
            assert_eq!(rgb.get_pixel(x, y).0, want, "at {x},{y}");
        }
    }

    #[test]
    fn reduction_keeps_the_sizes_asked_for() {
        assert_eq!(reduction(20990, 29700, 256, 224), 93);
        assert_eq!(reduction(100, 100, 256, 224), 1);
        assert_eq!(reduction(10_000, 300, 256, 0), 39);
    }
}
