//! Packing atlas cells: image `i` goes to a fixed square cell, row-major, atlas after atlas.
//!
//! A fixed grid keeps the packing a pure function of the image's index (resumable, trivially
//! parallel, no packing search) and every cell the same size on screen; each image is centred in
//! its cell with its aspect kept, and its exact rectangle is recorded in the manifest.

use crate::bundle::MAX_ATLAS_SIZE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtlasGrid {
    pub cell: u32,
    /// Cells per row (and rows per full atlas).
    pub columns: u32,
}

impl AtlasGrid {
    /// `cell` must be in 1..=4096.
    pub fn new(cell: u32) -> AtlasGrid {
        assert!((1..=MAX_ATLAS_SIZE).contains(&cell), "cell size {cell} out of range");
        AtlasGrid { cell, columns: MAX_ATLAS_SIZE / cell }
    }

    pub fn per_atlas(&self) -> u32 {
        self.columns * self.columns
    }

    pub fn atlas_count(&self, images: u32) -> u32 {
        images.div_ceil(self.per_atlas())
    }

    /// Width and height of atlas `index` when the collection has `images` images: the last atlas
    /// is cropped to the rows (and, if under one row, the columns) it uses.
    pub fn atlas_size(&self, index: u32, images: u32) -> (u32, u32) {
        let in_atlas = images.saturating_sub(index * self.per_atlas()).min(self.per_atlas());
        let columns = in_atlas.min(self.columns);
        let rows = in_atlas.div_ceil(self.columns);
        (columns * self.cell, rows * self.cell)
    }

    /// The atlas holding image `i`, and the top-left corner of its cell.
    pub fn slot(&self, i: u32) -> (u32, u32, u32) {
        let atlas = i / self.per_atlas();
        let k = i % self.per_atlas();
        (atlas, (k % self.columns) * self.cell, (k / self.columns) * self.cell)
    }

    /// Atlas index and `[x, y, w, h]` of image `i` whose cell picture is `w × h`, centred.
    pub fn place(&self, i: u32, w: u32, h: u32) -> (u32, [u32; 4]) {
        let (atlas, x, y) = self.slot(i);
        (atlas, [x + (self.cell - w) / 2, y + (self.cell - h) / 2, w, h])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixty_four_pixel_cells_fill_4096_atlases() {
        let g = AtlasGrid::new(64);
        assert_eq!(g.per_atlas(), 4096);
        assert_eq!(g.atlas_count(4097), 2);
        assert_eq!(g.atlas_size(0, 4097), (4096, 4096));
        assert_eq!(g.atlas_size(1, 4097), (64, 64));
        assert_eq!(g.atlas_size(0, 1280), (4096, 1280));
        assert_eq!(g.slot(65), (0, 64, 64));
        assert_eq!(g.place(4096, 64, 48), (1, [0, 8, 64, 48]));
    }

    #[test]
    fn odd_cell_sizes_stay_inside_the_limit() {
        let g = AtlasGrid::new(100);
        assert_eq!(g.columns, 40);
        let (w, h) = g.atlas_size(0, 1_000_000);
        assert!(w <= MAX_ATLAS_SIZE && h <= MAX_ATLAS_SIZE);
    }
}
