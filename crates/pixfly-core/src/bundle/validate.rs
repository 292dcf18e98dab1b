//! Everything a viewer relies on, checked once at load time so that no later code needs to.

use super::BundleError;
use super::manifest::*;
use std::collections::HashSet;

fn invalid(msg: impl Into<String>) -> BundleError {
    BundleError::Invalid(msg.into())
}

/// A path the bundle may refer to: relative, `/`-separated, inside the bundle.
pub fn check_relative_path(what: &str, path: &str) -> Result<(), BundleError> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path.contains(':')
        || path.contains('\0')
        || path.split('/').any(|part| part.is_empty() || part == "." || part == "..");
    if bad {
        return Err(invalid(format!(
            "{what} has path {path:?}: bundle paths must be relative, '/'-separated and stay inside the bundle"
        )));
    }
    Ok(())
}

pub fn validate_manifest(m: &Manifest) -> Result<(), BundleError> {
    if m.format != FORMAT_NAME {
        return Err(invalid(format!(
            "format is {:?}, expected {FORMAT_NAME:?}: this is not a pixfly bundle",
            m.format
        )));
    }
    if m.version != SCHEMA_VERSION {
        return Err(BundleError::Version { found: m.version, supported: SCHEMA_VERSION });
    }
    if m.cell_size == 0 || m.cell_size > MAX_ATLAS_SIZE {
        return Err(invalid(format!("cell_size {} is outside 1..={MAX_ATLAS_SIZE}", m.cell_size)));
    }
    if m.thumb_size == 0 {
        return Err(invalid("thumb_size is 0"));
    }
    if m.image_count == 0 {
        return Err(invalid("the bundle holds no images"));
    }
    if m.images.len() != m.image_count as usize {
        return Err(invalid(format!(
            "image_count is {} but the manifest lists {} images",
            m.image_count,
            m.images.len()
        )));
    }
    for (i, atlas) in m.atlases.iter().enumerate() {
        check_relative_path(&format!("atlas {i}"), &atlas.path)?;
        if atlas.width == 0
            || atlas.height == 0
            || atlas.width > MAX_ATLAS_SIZE
            || atlas.height > MAX_ATLAS_SIZE
        {
            return Err(invalid(format!(
                "atlas {i} is {}×{}: each side must be 1..={MAX_ATLAS_SIZE}",
                atlas.width, atlas.height
            )));
        }
    }
    let mut layout_names = HashSet::new();
    for layout in &m.layouts {
        check_relative_path(&format!("layout {:?}", layout.name), &layout.path)?;
        if layout.name.is_empty() || !layout_names.insert(layout.name.as_str()) {
            return Err(invalid(format!("layout name {:?} is empty or repeated", layout.name)));
        }
        if !(layout.dims == 2 || layout.dims == 3) {
            return Err(invalid(format!(
                "layout {:?} has dims {}, expected 2 or 3",
                layout.name, layout.dims
            )));
        }
    }
    // A viewer opens every bundle on some layout, and `grid` needs nothing but the images.
    if !layout_names.contains("grid") {
        return Err(invalid(format!(
            "the bundle has no \"grid\" layout (it has: {}); every bundle has one",
            m.layouts.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let classes = match &m.embedding {
        Some(embedding) => {
            check_relative_path("embedding", &embedding.path)?;
            if embedding.dims == 0 {
                return Err(invalid("embedding has 0 dims"));
            }
            embedding.classes.len()
        }
        None => 0,
    };
    for (index, image) in m.images.iter().enumerate() {
        let at = || format!("image {index} ({:?})", image.filename);
        if image.auto_tags.iter().any(|&(class, p)| class as usize >= classes || !(0.0..=1.0).contains(&p)) {
            return Err(invalid(format!(
                "{} has auto_tags {:?}: each needs a class below {classes} and a probability in 0..=1",
                at(),
                image.auto_tags
            )));
        }
        if image.id as usize != index {
            return Err(invalid(format!("{} has id {}, expected {index}", at(), image.id)));
        }
        check_relative_path(&at(), &image.thumb)?;
        if image.width == 0 || image.height == 0 {
            return Err(invalid(format!("{} has size {}×{}", at(), image.width, image.height)));
        }
        let atlas = m.atlases.get(image.atlas as usize).ok_or_else(|| {
            invalid(format!("{} refers to atlas {} but there are {}", at(), image.atlas, m.atlases.len()))
        })?;
        let [x, y, w, h] = image.rect.map(u64::from);
        if w == 0
            || h == 0
            || w > u64::from(m.cell_size)
            || h > u64::from(m.cell_size)
            || x + w > u64::from(atlas.width)
            || y + h > u64::from(atlas.height)
        {
            return Err(invalid(format!(
                "{} has rect {:?}, which is empty, larger than a cell or outside its {}×{} atlas",
                at(),
                image.rect,
                atlas.width,
                atlas.height
            )));
        }
    }
    if let Some(neighbours) = &m.neighbours {
        check_relative_path("neighbours", &neighbours.path)?;
        if neighbours.k == 0 {
            return Err(invalid("neighbours has k = 0"));
        }
    }
    let count = m.image_count;
    for (c, cluster) in m.clusters.iter().enumerate() {
        if cluster.representative >= count || cluster.members.iter().any(|&id| id >= count) {
            return Err(invalid(format!("cluster {c} ({:?}) refers to a missing image", cluster.name)));
        }
        for (layout, centroid) in &cluster.centroids {
            if !m.layouts.iter().any(|l| &l.name == layout) || centroid.iter().any(|v| !v.is_finite()) {
                return Err(invalid(format!(
                    "cluster {c} ({:?}) has a bad centroid for {layout:?}",
                    cluster.name
                )));
            }
        }
    }
    Ok(())
}

/// Decode a layout file: `count × 3` little-endian f32, all finite.
pub fn parse_positions(name: &str, bytes: &[u8], count: usize) -> Result<Vec<[f32; 3]>, BundleError> {
    let expected = count.checked_mul(12).ok_or_else(|| invalid("image count overflows"))?;
    if bytes.len() != expected {
        return Err(invalid(format!(
            "layout {name:?} holds {} bytes, expected {expected} ({count} images × 3 × f32)",
            bytes.len()
        )));
    }
    let positions: Vec<[f32; 3]> = bytes
        .chunks_exact(12)
        .map(|p| {
            let f = |i: usize| f32::from_le_bytes([p[i], p[i + 1], p[i + 2], p[i + 3]]);
            [f(0), f(4), f(8)]
        })
        .collect();
    if let Some(i) = positions.iter().position(|p| p.iter().any(|v| !v.is_finite())) {
        return Err(invalid(format!("layout {name:?} has a non-finite position for image {i}")));
    }
    Ok(positions)
}

/// Decode a neighbours file: `count × k` little-endian u32 ids of other existing images.
pub fn parse_neighbours(bytes: &[u8], count: usize, k: usize) -> Result<Vec<u32>, BundleError> {
    let expected = count.checked_mul(k * 4).ok_or_else(|| invalid("image count overflows"))?;
    if bytes.len() != expected {
        return Err(invalid(format!(
            "the neighbours file holds {} bytes, expected {expected} ({count} images × {k} × u32)",
            bytes.len()
        )));
    }
    let ids: Vec<u32> = bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    if let Some(i) = ids.iter().enumerate().position(|(i, &id)| id as usize >= count || id as usize == i / k)
    {
        return Err(invalid(format!("image {}'s neighbour {} is itself or not an image", i / k, ids[i])));
    }
    Ok(ids)
}

/// Encode neighbour ids the way [`parse_neighbours`] reads them.
pub fn encode_neighbours(ids: &[u32]) -> Vec<u8> {
    ids.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Encode positions the way [`parse_positions`] reads them.
pub fn encode_positions(positions: &[[f32; 3]]) -> Vec<u8> {
    positions.iter().flatten().flat_map(|v| v.to_le_bytes()).collect()
}
