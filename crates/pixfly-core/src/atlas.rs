//! Packing atlas cells: each image goes to a fixed square cell (a slot), row-major, atlas after
//! atlas.
//!
//! A fixed grid keeps the packing trivially parallel, with no packing search, and every cell the
//! same size on screen; each image is centred in its cell with its aspect kept, and its exact
//! rectangle is recorded in the manifest. A new bundle's image `i` takes slot `i`; building into
//! a bundle again keeps each image's slot ([`assign_slots`]) so only atlases that change are
//! written again.

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

    /// The slot whose cell holds the point (`x`, `y`) of atlas `atlas`.
    pub fn slot_at(&self, atlas: u32, x: u32, y: u32) -> u32 {
        atlas * self.per_atlas() + (y / self.cell) * self.columns + x / self.cell
    }

    /// Atlas index and `[x, y, w, h]` of image `i` whose cell picture is `w × h`, centred.
    pub fn place(&self, i: u32, w: u32, h: u32) -> (u32, [u32; 4]) {
        let (atlas, x, y) = self.slot(i);
        (atlas, [x + (self.cell - w) / 2, y + (self.cell - h) / 2, w, h])
    }
}

/// Slots left empty (by removed images) beyond this share of all slots make a repacking worth
/// writing every atlas again.
const MOST_EMPTY: f64 = 0.25;

/// Each image's slot, given the slots the bundle's images had last time (`previous`, by position
/// in `images`; none for new images): old images keep theirs and new ones follow the last, so an
/// addition changes only the last atlas (filling the gaps removed images left would change every
/// atlas with a gap). Slot `i` for image `i` when there is nothing to keep or too many slots
/// would be empty.
pub fn assign_slots(previous: &[Option<u32>]) -> Vec<u32> {
    let fresh = || (0..previous.len() as u32).collect();
    let mut taken = std::collections::HashSet::new();
    // A slot claimed twice (a damaged manifest) goes to the first; the other image is new.
    let kept: Vec<Option<u32>> = previous.iter().map(|s| s.filter(|&s| taken.insert(s))).collect();
    let Some(&highest) = taken.iter().max() else { return fresh() };
    let new = kept.iter().filter(|s| s.is_none()).count() as u32;
    let slots = highest + 1 + new;
    if f64::from(slots - previous.len() as u32) > MOST_EMPTY * f64::from(slots) {
        return fresh();
    }
    let mut next = highest + 1..;
    kept.into_iter().map(|s| s.unwrap_or_else(|| next.next().expect("slots never run out"))).collect()
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
    fn old_images_keep_their_slots_and_new_ones_follow() {
        // Images 0, 2 and 4 were in slots 1, 0 and 4; slots 2 and 3 held removed images.
        let previous = [Some(1), None, Some(0), None, Some(4), Some(5), Some(6), Some(7), Some(8)];
        assert_eq!(assign_slots(&previous), vec![1, 9, 0, 10, 4, 5, 6, 7, 8]);
        assert_eq!(assign_slots(&[None, None]), vec![0, 1]);
        // A slot claimed twice: the second image counts as new.
        assert_eq!(assign_slots(&[Some(0), Some(0), Some(1)]), vec![0, 2, 1]);
        // Half the slots empty: packed afresh.
        assert_eq!(assign_slots(&[Some(0), Some(7)]), vec![0, 1]);
        let g = AtlasGrid::new(64);
        let (atlas, rect) = g.place(4100, 40, 64);
        assert_eq!(g.slot_at(atlas, rect[0], rect[1]), 4100);
    }

    #[test]
    fn odd_cell_sizes_stay_inside_the_limit() {
        let g = AtlasGrid::new(100);
        assert_eq!(g.columns, 40);
        let (w, h) = g.atlas_size(0, 1_000_000);
        assert!(w <= MAX_ATLAS_SIZE && h <= MAX_ATLAS_SIZE);
    }
}
