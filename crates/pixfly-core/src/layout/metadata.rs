//! Layouts from the metadata CSV, as PixPlot offers them: by category, by year, on a map, and the
//! user's own coordinates. Each exists only when the metadata supports it, and places every
//! image: those without the field are set apart (their own block, column or strip), never lost.

use super::{cells, normalise, snap_order};
use crate::bundle::Metadata;
use std::collections::{BTreeMap, HashMap};

/// A layout made from metadata, ready to be written into a bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataLayout {
    pub name: &'static str,
    pub title: &'static str,
    pub dims: u8,
    pub positions: Vec<[f32; 3]>,
}

/// Every layout `metadata` (one record per image, in id order) supports. `similar`, a 2D layout
/// by similarity when there is one, orders images inside each category block.
pub fn layouts(metadata: &[&Metadata], similar: Option<&[[f32; 3]]>) -> Vec<MetadataLayout> {
    let mut out = Vec::new();
    let mut add = |name, title, dims, positions: Option<Vec<[f32; 3]>>| {
        if let Some(positions) = positions {
            out.push(MetadataLayout { name, title, dims, positions });
        }
    };
    let categories: Vec<Option<&str>> = metadata.iter().map(|m| m.category.as_deref()).collect();
    add("category", "By category", 2, by_category(&categories, similar));
    let years: Vec<Option<i32>> = metadata.iter().map(|m| m.year).collect();
    add("year", "By year", 2, by_year(&years));
    let places: Vec<Option<[f32; 3]>> =
        metadata.iter().map(|m| Some([m.lng? as f32, m.lat? as f32, 0.0])).collect();
    add("map", "Map (latitude, longitude)", 2, on_map(&places));
    let coordinate = |m: &Metadata, axis: &str| m.extra.get(axis).and_then(|v| v.parse::<f32>().ok());
    let custom: Vec<Option<[f32; 3]>> = metadata
        .iter()
        .map(|m| Some([coordinate(m, "x")?, coordinate(m, "y")?, coordinate(m, "z").unwrap_or(0.0)]))
        .collect();
    let dims = if metadata.iter().any(|m| coordinate(m, "z").is_some()) { 3 } else { 2 };
    add("custom", "Custom (x, y from the metadata)", dims, place_or_set_apart(&custom));
    out
}

/// One block per category, largest first (images without one last), each a square grid, packed
/// in rows. With `similar`, each block is that layout snapped onto the block's grid. Needs two
/// categories at least.
pub fn by_category(categories: &[Option<&str>], similar: Option<&[[f32; 3]]>) -> Option<Vec<[f32; 3]>> {
    let mut groups: BTreeMap<(bool, &str), Vec<usize>> = BTreeMap::new();
    for (id, category) in categories.iter().enumerate() {
        groups.entry((category.is_none(), category.unwrap_or(""))).or_default().push(id);
    }
    if groups.keys().filter(|(missing, _)| !missing).count() < 2 {
        return None;
    }
    let mut blocks: Vec<((bool, &str), Vec<usize>)> = groups.into_iter().collect();
    // Named categories by size, largest first, then by name; the uncategorised at the end.
    blocks.sort_by(|a, b| a.0.0.cmp(&b.0.0).then(b.1.len().cmp(&a.1.len())).then(a.0.1.cmp(b.0.1)));
    let side = |n: usize| {
        let columns = (n as f64).sqrt().ceil() as usize;
        (columns, n.div_ceil(columns))
    };
    let area: usize = blocks.iter().map(|(_, m)| side(m.len())).map(|(c, r)| (c + 1) * (r + 1)).sum();
    let widest = blocks.iter().map(|(_, m)| side(m.len()).0).max().unwrap_or(1);
    let width = ((area as f64).sqrt().ceil() as usize).max(widest);

    let mut positions = vec![[0.0; 3]; categories.len()];
    let (mut x, mut y, mut shelf) = (0, 0, 0);
    for (_, members) in &blocks {
        let (columns, rows) = side(members.len());
        if x > 0 && x + columns > width {
            (x, y, shelf) = (0, y + shelf + 1, 0);
        }
        let order: Vec<usize> = match similar {
            Some(similar) => snap_order(&members.iter().map(|&m| similar[m]).collect::<Vec<_>>()),
            None => (0..members.len()).collect(),
        };
        let grid = cells(members.len());
        for (&id, &cell) in members.iter().zip(&order) {
            positions[id] = [x as f32 + grid[cell][0], grid[cell][1] - y as f32, 0.0];
        }
        x += columns + 1;
        shelf = shelf.max(rows);
    }
    Some(normalise(positions))
}

/// A column per year, oldest on the left, images stacked upwards like a histogram's bars (all
/// columns equally wide, so the tallest bar is about as tall as the chart is wide); undated
/// images in a block of their own on the right. Needs two different years.
pub fn by_year(years: &[Option<i32>]) -> Option<Vec<[f32; 3]>> {
    let mut columns: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    let mut undated = Vec::new();
    for (id, year) in years.iter().enumerate() {
        match year {
            Some(year) => columns.entry(*year).or_default().push(id),
            None => undated.push(id),
        }
    }
    if columns.len() < 2 {
        return None;
    }
    let tallest = columns.values().map(Vec::len).max().unwrap_or(1);
    let width = ((tallest as f64 / columns.len() as f64).sqrt().round() as usize).max(1);
    let mut positions = vec![[0.0; 3]; years.len()];
    let mut x = 0;
    for members in columns.values() {
        for (j, &id) in members.iter().enumerate() {
            positions[id] = [(x + j % width) as f32, (j / width) as f32, 0.0];
        }
        x += width + 1;
    }
    let grid = cells(undated.len());
    let top = grid.iter().map(|c| -c[1]).fold(0.0, f32::max);
    for (&id, cell) in undated.iter().zip(&grid) {
        positions[id] = [(x + 1) as f32 + cell[0], cell[1] + top, 0.0];
    }
    Some(normalise(positions))
}

/// Longitude and latitude as x and y (equirectangular), framed on the places present. Images at
/// the very same place are spread on a small sunflower spiral around it rather than stacked.
pub fn on_map(places: &[Option<[f32; 3]>]) -> Option<Vec<[f32; 3]>> {
    let placed: Vec<[f32; 3]> = places.iter().flatten().copied().collect();
    if placed.is_empty() {
        return None;
    }
    let spacing = extent(&placed) / (placed.len() as f32).sqrt() / 4.0;
    let mut seen: HashMap<[u32; 2], usize> = HashMap::new();
    let spread: Vec<Option<[f32; 3]>> = places
        .iter()
        .map(|place| {
            let [x, y, _] = (*place)?;
            let count = seen.entry([x.to_bits(), y.to_bits()]).or_default();
            let (j, angle) = (*count as f32, *count as f32 * 2.399_963); // the golden angle
            *count += 1;
            Some([x + spacing * j.sqrt() * angle.cos(), y + spacing * j.sqrt() * angle.sin(), 0.0])
        })
        .collect();
    place_or_set_apart(&spread)
}

/// The given positions as they are; images without one in a grid strip below them. Needs one
/// placed image at least.
pub fn place_or_set_apart(places: &[Option<[f32; 3]>]) -> Option<Vec<[f32; 3]>> {
    let placed: Vec<[f32; 3]> = places.iter().flatten().copied().collect();
    if placed.is_empty() {
        return None;
    }
    let width = extent(&placed);
    // Cells as if every image shared the placed images' width, so the strip reads as a margin.
    let cell = width / (places.len() as f32).sqrt().ceil();
    let columns = ((width / cell).floor() as usize).max(1);
    let left = placed.iter().map(|p| p[0]).fold(f32::INFINITY, f32::min);
    let bottom = placed.iter().map(|p| p[1]).fold(f32::INFINITY, f32::min);
    let mut unplaced = 0;
    let positions = places
        .iter()
        .map(|place| {
            place.unwrap_or_else(|| {
                let (column, row) = (unplaced % columns, unplaced / columns);
                unplaced += 1;
                [left + column as f32 * cell, bottom - (2 + row) as f32 * cell, 0.0]
            })
        })
        .collect();
    Some(normalise(positions))
}

/// The largest side of the positions' bounding box (1 when they all coincide).
fn extent(positions: &[[f32; 3]]) -> f32 {
    let side = |k: usize| {
        let (lo, hi) = positions
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), p| (lo.min(p[k]), hi.max(p[k])));
        hi - lo
    };
    let largest = side(0).max(side(1)).max(side(2));
    if largest > 0.0 { largest } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct(positions: &[[f32; 3]]) -> bool {
        let mut keys: Vec<[u32; 3]> = positions.iter().map(|p| p.map(f32::to_bits)).collect();
        keys.sort_unstable();
        keys.windows(2).all(|w| w[0] != w[1])
    }

    fn normalised(positions: &[[f32; 3]]) -> bool {
        positions.iter().flatten().all(|v| v.is_finite() && v.abs() <= 1.0 + 1e-5)
    }

    #[test]
    fn categories_form_separate_blocks_largest_first() {
        // 9 "b", 4 "a", 2 without: blocks b (3×3), a (2×2), then the uncategorised.
        let mut categories = vec![Some("b"); 9];
        categories.extend([Some("a"); 4]);
        categories.extend([None, None]);
        let p = by_category(&categories, None).unwrap();
        assert!(distinct(&p) && normalised(&p));
        let bounds = |ids: std::ops::Range<usize>| {
            let xs: Vec<f32> = ids.map(|i| p[i][0]).collect();
            (
                xs.iter().copied().fold(f32::INFINITY, f32::min),
                xs.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            )
        };
        let (b, a) = (bounds(0..9), bounds(9..13));
        assert!(b.1 < a.0, "b's block lies left of a's, with a gap: {b:?} {a:?}");
        assert!(by_category(&[Some("a"), Some("a"), None], None).is_none(), "one category is no layout");
    }

    #[test]
    fn similar_images_stay_together_inside_a_block() {
        // One category whose images sit in two far-apart groups by similarity: each group fills
        // one side of the block.
        let categories = vec![Some("x"); 8].into_iter().chain(vec![Some("y"); 2]).collect::<Vec<_>>();
        let similar: Vec<[f32; 3]> =
            (0..10).map(|i| [if i % 2 == 0 { -5.0 } else { 5.0 }, i as f32 * 0.01, 0.0]).collect();
        let p = by_category(&categories, Some(&similar)).unwrap();
        let even = (0..8).step_by(2).map(|i| p[i][0]).fold(f32::NEG_INFINITY, f32::max);
        let odd = (1..8).step_by(2).map(|i| p[i][0]).fold(f32::INFINITY, f32::min);
        assert!(even <= odd, "even images left of odd ones: {even} vs {odd}");
    }

    #[test]
    fn years_are_columns_in_order_and_undated_set_apart() {
        let years = [Some(1900), Some(1850), Some(1900), None, Some(1875), Some(1900)];
        let p = by_year(&years).unwrap();
        assert!(distinct(&p) && normalised(&p));
        assert!(p[1][0] < p[4][0] && p[4][0] < p[0][0], "1850 < 1875 < 1900");
        assert!(p[0][1] < p[2][1] && p[2][1] < p[5][1], "a year's images stack upwards");
        assert!(p[3][0] > p[5][0], "undated on the right");
        assert!(by_year(&[Some(1900), Some(1900)]).is_none());
    }

    #[test]
    fn map_keeps_geography_spreads_shared_places_and_sets_unplaced_apart() {
        let london = [-0.12, 51.5, 0.0];
        let paris = [2.35, 48.86, 0.0];
        let places = [Some(london), Some(paris), Some(london), None, Some(london)];
        let p = on_map(&places).unwrap();
        assert!(distinct(&p) && normalised(&p));
        assert!(p[0][0] < p[1][0] && p[0][1] > p[1][1], "London is west and north of Paris");
        let spread = (p[0][0] - p[2][0]).hypot(p[0][1] - p[2][1]);
        assert!(spread > 0.0 && spread < 0.3, "shared place spread a little: {spread}");
        assert!(p[3][1] < p[1][1], "the image without a place lies below the map");
        assert!(on_map(&[None, None]).is_none());
    }

    #[test]
    fn custom_coordinates_come_from_the_metadata() {
        let record = |x: &str, y: &str, z: Option<&str>| {
            let mut m = Metadata::default();
            m.extra.insert("x".into(), x.into());
            m.extra.insert("y".into(), y.into());
            if let Some(z) = z {
                m.extra.insert("z".into(), z.into());
            }
            m
        };
        let records = [record("0", "0", None), record("10", "0", Some("5")), Metadata::default()];
        let refs: Vec<&Metadata> = records.iter().collect();
        let all = layouts(&refs, None);
        let custom = all.iter().find(|l| l.name == "custom").unwrap();
        assert_eq!(custom.dims, 3);
        assert_eq!(custom.positions[0][0], -1.0);
        assert_eq!(custom.positions[1][0], 1.0);
        assert!(custom.positions[1][2] > custom.positions[0][2]);
        assert!(custom.positions[2][1] < custom.positions[0][1], "no coordinates: below");
        assert!(all.iter().all(|l| l.name == "custom"), "nothing else in this metadata");
    }
}
