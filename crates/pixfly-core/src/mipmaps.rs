//! Smaller copies of RGBA8 atlases for the GPU: a whole-factor reduction when a collection's
//! atlases would not fit the viewer's texture memory, and the mip chain a GPU samples when an
//! atlas is seen from afar (without it, distant images shimmer as the camera moves).
//!
//! Atlas cells are squares on a grid of their own size, so averaging 2 × 2 blocks keeps cells
//! apart until a level's cells are about a pixel wide, by which point an image covers a pixel
//! on screen anyway. Averages are taken in sRGB values, as most mipmap generators do.

/// Bytes per pixel of an RGBA8 texture.
const RGBA: usize = 4;

/// `rgba` (`width × height`) averaged over `factor × factor` blocks: the reduced pixels and size.
/// A trailing partial block is dropped (as GPU mip levels round down); never below 1 × 1.
pub fn reduce(rgba: &[u8], width: u32, height: u32, factor: u32) -> (Vec<u8>, u32, u32) {
    if factor == 2 && width >= 2 && height >= 2 {
        return halve(rgba, width, height);
    }
    let factor = factor.max(1);
    let (out_w, out_h) = ((width / factor).max(1), (height / factor).max(1));
    // Blocks never reach past the source, even when it is smaller than one block.
    let (block_w, block_h) = (factor.min(width) as usize, factor.min(height) as usize);
    let (width, factor) = (width as usize, factor as usize);
    let mut out = Vec::with_capacity(out_w as usize * out_h as usize * RGBA);
    let mut sums = vec![0u32; out_w as usize * RGBA];
    for y in 0..out_h as usize {
        sums.fill(0);
        for row in rgba.chunks_exact(width * RGBA).skip(y * factor).take(block_h) {
            for (sum, block) in sums.chunks_exact_mut(RGBA).zip(row.chunks(factor * RGBA)) {
                for pixel in block.chunks_exact(RGBA).take(block_w) {
                    sum.iter_mut().zip(pixel).for_each(|(s, &v)| *s += u32::from(v));
                }
            }
        }
        let count = (block_w * block_h) as u32;
        out.extend(sums.iter().map(|&s| ((s + count / 2) / count) as u8));
    }
    (out, out_w, out_h)
}

/// `reduce` by 2, every mip level's step, in a form the compiler vectorises: the general loop
/// took a fifth of a 100,000-image bundle's loading time.
fn halve(rgba: &[u8], width: u32, height: u32) -> (Vec<u8>, u32, u32) {
    let (out_w, out_h) = (width / 2, height / 2);
    let row = width as usize * RGBA;
    let mut out = vec![0; out_w as usize * out_h as usize * RGBA];
    for (out_row, rows) in out.chunks_exact_mut(out_w as usize * RGBA).zip(rgba.chunks_exact(2 * row)) {
        let (top, bottom) = rows.split_at(row);
        // Two pixels of the top row and two of the bottom row make one output pixel.
        let blocks = top.chunks_exact(2 * RGBA).zip(bottom.chunks_exact(2 * RGBA));
        for (pixel, (t, b)) in out_row.chunks_exact_mut(RGBA).zip(blocks) {
            for c in 0..RGBA {
                let sum = u16::from(t[c]) + u16::from(t[c + RGBA]) + u16::from(b[c]) + u16::from(b[c + RGBA]);
                pixel[c] = ((sum + 2) >> 2) as u8;
            }
        }
    }
    (out, out_w, out_h)
}

/// Level 0 (`rgba`) followed by every smaller level down to 1 × 1, each half the one before,
/// one after another as wgpu takes them. Returns the data and the number of levels.
pub fn mip_chain(rgba: Vec<u8>, width: u32, height: u32) -> (Vec<u8>, u32) {
    let levels = 32 - width.max(height).max(1).leading_zeros();
    let mut data = rgba;
    let (mut start, mut w, mut h) = (0, width, height);
    for _ in 1..levels {
        let end = start + w as usize * h as usize * RGBA;
        let (next, next_w, next_h) = reduce(&data[start..end], w, h, 2);
        data.extend_from_slice(&next);
        (start, w, h) = (end, next_w, next_h);
    }
    (data, levels)
}

/// The smallest power-of-two reduction that brings textures of these sizes, with their mip
/// chains (a third more), within `budget` bytes.
pub fn reduction_for(sizes: &[(u32, u32)], budget: u64) -> u32 {
    let bytes = |factor: u32| -> u64 {
        let side = |s: u32| u64::from((s / factor).max(1));
        sizes.iter().map(|&(w, h)| side(w) * side(h) * RGBA as u64 * 4 / 3).sum()
    };
    let largest = sizes.iter().map(|&(w, h)| w.max(h)).max().unwrap_or(1).max(1);
    let mut factor = 1;
    while bytes(factor) > budget && factor < largest {
        factor *= 2;
    }
    factor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduce_averages_blocks_and_rounds_sizes_down() {
        // 3 × 2 pixels: the 2 × 2 block on the left averages; the odd column is dropped.
        let pixel = |v: u8| [v, v, v, 255];
        let rgba: Vec<u8> = [0, 100, 7, 50, 250, 7].iter().flat_map(|&v| pixel(v)).collect();
        let (out, w, h) = reduce(&rgba, 3, 2, 2);
        assert_eq!((w, h), (1, 1));
        assert_eq!(out, vec![100, 100, 100, 255]);
        // A factor larger than the texture averages all of it into one pixel.
        let (out, w, h) = reduce(&rgba[..8], 2, 1, 8);
        assert_eq!(((w, h), out), ((1, 1), vec![50, 50, 50, 255]));
    }

    #[test]
    fn halving_matches_the_general_block_average() {
        // Odd and even sizes, with values that exercise rounding.
        for (w, h) in [(2u32, 2u32), (5, 3), (8, 7), (33, 2)] {
            let rgba: Vec<u8> = (0..w * h * 4).map(|i| (i * 97 % 256) as u8).collect();
            let general = {
                let mut sums = Vec::new();
                for y in 0..h / 2 {
                    for x in 0..w / 2 {
                        for c in 0..4 {
                            let at = |dx: u32, dy: u32| {
                                u32::from(rgba[(((y * 2 + dy) * w + x * 2 + dx) * 4 + c) as usize])
                            };
                            sums.push(((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) / 4) as u8);
                        }
                    }
                }
                sums
            };
            assert_eq!(reduce(&rgba, w, h, 2), (general, w / 2, h / 2), "{w}x{h}");
        }
    }

    #[test]
    fn mip_chain_holds_every_level_down_to_one_pixel() {
        let (w, h) = (8u32, 3u32);
        let rgba: Vec<u8> = (0..w * h).flat_map(|i| [(i * 10) as u8, 0, 255, 255]).collect();
        let (data, levels) = mip_chain(rgba.clone(), w, h);
        // 8×3, 4×1, 2×1, 1×1, as wgpu sizes mip levels.
        assert_eq!(levels, 4);
        assert_eq!(data.len(), (24 + 4 + 2 + 1) * 4);
        assert_eq!(&data[..rgba.len()], &rgba[..]);
        // Level 1's first pixel averages level 0's top-left 2 × 2 block (0, 10, 80, 90).
        assert_eq!(&data[96..100], &[45, 0, 255, 255]);
    }

    #[test]
    fn reduction_fits_the_budget() {
        let atlas = (4096, 4096);
        // 25 full atlases (100,000 images in 64-pixel cells) are 2.2 GB with mips.
        assert_eq!(reduction_for(&[atlas; 25], 1 << 30), 2);
        assert_eq!(reduction_for(&[atlas; 3], 1 << 30), 1);
        assert_eq!(reduction_for(&[atlas; 250], 1 << 30), 8);
        // A budget nothing fits stops at one pixel per texture, never loops.
        assert_eq!(reduction_for(&[atlas], 0), 4096);
    }
}
