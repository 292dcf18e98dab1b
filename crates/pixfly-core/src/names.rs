//! Hotspot names a curator gave, kept beside the bundle (`names.json` in its folder) rather than
//! in the manifest, so a rebuild keeps them: each name is tied to the hotspot's representative
//! image by file name, and a hotspot a rebuild no longer has simply loses its name.

use crate::bundle::Manifest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const NAMES_FILE: &str = "names.json";
pub const NAMES_VERSION: u32 = 1;
/// A names file larger than this is not one pixfly wrote.
pub const MAX_NAMES_BYTES: usize = 4 << 20;

#[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NamesFile {
    pub version: u32,
    /// Representative image's file name → the hotspot's name.
    pub hotspots: BTreeMap<String, String>,
}

/// Give the manifest's hotspots the names in `bytes` (a names file); returns how many were
/// renamed.
pub fn apply(manifest: &mut Manifest, bytes: &[u8]) -> Result<usize, String> {
    if bytes.len() > MAX_NAMES_BYTES {
        return Err(format!("{NAMES_FILE} is larger than {} MiB", MAX_NAMES_BYTES >> 20));
    }
    let file: NamesFile = serde_json::from_slice(bytes).map_err(|e| format!("{NAMES_FILE}: {e}"))?;
    if file.version != NAMES_VERSION {
        return Err(format!("{NAMES_FILE}: version {} is not one this pixfly reads", file.version));
    }
    let mut renamed = 0;
    for cluster in &mut manifest.clusters {
        let Some(image) = manifest.images.get(cluster.representative as usize) else { continue };
        if let Some(name) = file.hotspots.get(&image.filename).map(|n| n.trim()).filter(|n| !n.is_empty()) {
            cluster.name = name.to_string();
            renamed += 1;
        }
    }
    Ok(renamed)
}

/// The names file for `names` (one per hotspot of `manifest`, in its order), holding only the
/// names that differ from those the build gave (`built`).
pub fn file_for(manifest: &Manifest, built: &[String], names: &[String]) -> NamesFile {
    let hotspots = manifest
        .clusters
        .iter()
        .zip(built.iter().zip(names))
        .filter(|(_, (built, name))| built != name && !name.trim().is_empty())
        .filter_map(|(cluster, (_, name))| {
            let image = manifest.images.get(cluster.representative as usize)?;
            Some((image.filename.clone(), name.trim().to_string()))
        })
        .collect();
    NamesFile { version: NAMES_VERSION, hotspots }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tour::tests::manifest;

    #[test]
    fn names_follow_the_representative_image() {
        let mut m = manifest();
        let built: Vec<String> = m.clusters.iter().map(|c| c.name.clone()).collect();
        let file = file_for(&m, &built, &["galaxies".into(), "Clouds of gas ".into()]);
        assert_eq!(file.hotspots.len(), 1, "only the changed name is kept");
        let bytes = serde_json::to_vec(&file).unwrap();
        // A rebuild that swapped the hotspots' order still names the right one.
        m.clusters.reverse();
        assert_eq!(apply(&mut m, &bytes), Ok(1));
        assert_eq!((m.clusters[0].name.as_str(), m.clusters[1].name.as_str()), ("Clouds of gas", "galaxies"));
        assert!(apply(&mut m, b"{\"version\": 9, \"hotspots\": {}}").unwrap_err().contains("version 9"));
        assert!(apply(&mut m, b"[").unwrap_err().starts_with("names.json"));
    }
}
