//! Which folders pixfly writes into and which files it deletes (DESIGN.md's safety rules). A
//! folder is pixfly's only when pixfly made it: a small marker file is written into it first, and
//! pixfly refuses a folder that already holds anything else. Files are deleted only when a
//! previous manifest of the folder listed them, never because a folder listing showed them.

use super::folder::{BundleFolder, MAX_MANIFEST_BYTES};
use super::validate::check_relative_path;
use super::{EMBEDDINGS_FILE, FORMAT_NAME, MANIFEST_FILE};
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

/// What pixfly keeps in a folder it owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderKind {
    /// `pixfly build -o`: a bundle and its cache.
    Bundle,
    /// `pixfly export-web -o`: the web viewer, and a copy of a bundle in `bundle/`.
    Site,
}

/// The folders of a bundle that pixfly writes files into, and so may delete files from.
const BUNDLE_FOLDERS: [&str; 5] = ["atlases", "layouts", "thumbs", "neighbours", "cache"];

impl FolderKind {
    /// The marker that says pixfly made the folder.
    pub fn marker(self) -> &'static str {
        match self {
            FolderKind::Bundle => ".pixfly-bundle",
            FolderKind::Site => ".pixfly-site",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            FolderKind::Bundle => "pixfly bundle",
            FolderKind::Site => "site made by pixfly export-web",
        }
    }

    /// Where a manifest sits in the folder of an older pixfly, which wrote no marker.
    fn manifest(self) -> &'static str {
        match self {
            FolderKind::Bundle => MANIFEST_FILE,
            FolderKind::Site => "bundle/manifest.json",
        }
    }

    /// Folders pixfly writes into: each must be a real folder, not a link that leads elsewhere.
    fn folders(self) -> Vec<String> {
        match self {
            FolderKind::Bundle => BUNDLE_FOLDERS.iter().map(|f| f.to_string()).collect(),
            FolderKind::Site => std::iter::once("bundle".to_string())
                .chain(BUNDLE_FOLDERS.iter().map(|f| format!("bundle/{f}")))
                .collect(),
        }
    }
}

/// A path the folder must stay clear of: an input of the build, the bundle being exported.
#[derive(Debug, Clone)]
pub struct Protected {
    pub path: PathBuf,
    /// What it is, for the message: "the input", "the bundle being exported".
    pub what: &'static str,
    /// Whether the folder may lie inside it (a glob such as `*.png` does not look into folders).
    pub inside_allowed: bool,
}

/// Check that pixfly may write into `folder` and make it its own (create it, write the marker).
/// Refused, with a message saying why and what to do: `/`, the home folder, a folder that is,
/// holds or lies inside a protected path, a folder with other files in it that pixfly did not
/// make, and one whose sub-folders are links leading elsewhere.
pub fn claim(folder: &Path, kind: FolderKind, protected: &[Protected]) -> Result<(), String> {
    let shown = folder.display();
    let real = resolve(folder);
    let home = std::env::var_os("HOME").map(|home| resolve(Path::new(&home)));
    let whose = if real.parent().is_none() {
        Some("the root of the file system")
    } else if Some(&real) == home.as_ref() {
        Some("your home folder")
    } else {
        None
    };
    if let Some(whose) = whose {
        return Err(format!("{shown} is {whose}: choose a new folder for the {}", kind.noun()));
    }
    for p in protected {
        let theirs = resolve(&p.path);
        let relation = if real == theirs {
            Some("is the same folder as")
        } else if theirs.starts_with(&real) {
            Some("holds")
        } else if real.starts_with(&theirs) && !p.inside_allowed {
            Some("is inside")
        } else {
            None
        };
        if let Some(relation) = relation {
            return Err(format!(
                "{shown} {relation} {} {}: the output must be a folder of its own, outside it",
                p.what,
                p.path.display()
            ));
        }
    }
    match std::fs::metadata(&real) {
        Ok(meta) if !meta.is_dir() => return Err(format!("{shown} exists and is not a folder")),
        Ok(_) => {
            let empty = std::fs::read_dir(&real)
                .map_err(|e| format!("cannot read the folder {shown}: {e}"))?
                .next()
                .is_none();
            if !empty && !is_owned(&real, kind) {
                return Err(format!(
                    "{shown} already holds files and is not a {} (it has no {} or {}): pixfly writes \
                     only into a new or empty folder or one it made; choose another output folder",
                    kind.noun(),
                    kind.marker(),
                    kind.manifest()
                ));
            }
        }
        Err(_) => {}
    }
    for sub in kind.folders() {
        if let Ok(meta) = std::fs::symlink_metadata(real.join(&sub))
            && !meta.is_dir()
        {
            return Err(format!(
                "{shown}/{sub} is a link or a file, not a folder: pixfly writes only inside the {} itself",
                kind.noun()
            ));
        }
    }
    let marker = real.join(kind.marker());
    if !marker.is_file() {
        let text =
            format!("This folder is a {}; pixfly may write and replace its own files here.\n", kind.noun());
        super::write::write_atomic(&marker, text.as_bytes()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Whether pixfly made this folder: its marker, or the manifest an older pixfly wrote.
fn is_owned(real: &Path, kind: FolderKind) -> bool {
    if std::fs::symlink_metadata(real.join(kind.marker())).is_ok_and(|m| m.is_file()) {
        return true;
    }
    #[derive(serde::Deserialize)]
    struct Format {
        format: String,
    }
    let manifest =
        BundleFolder::new(real).and_then(|mut folder| folder.read(kind.manifest(), MAX_MANIFEST_BYTES));
    let site_page = kind != FolderKind::Site || real.join("index.html").is_file();
    site_page
        && manifest
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Format>(&bytes).ok())
            .is_some_and(|m| m.format == FORMAT_NAME)
}

/// The files the bundle's current manifest lists (empty when there is none): what a later run
/// may delete once it no longer needs them. Read leniently, so a bundle of an older schema
/// version still gives its list.
pub fn listed_files(bundle: &Path) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Path_ {
        path: String,
    }
    #[derive(serde::Deserialize)]
    struct Thumb {
        thumb: String,
    }
    #[derive(serde::Deserialize)]
    struct Listed {
        #[serde(default)]
        atlases: Vec<Path_>,
        #[serde(default)]
        layouts: Vec<Path_>,
        #[serde(default)]
        images: Vec<Thumb>,
        #[serde(default)]
        neighbours: Option<Path_>,
        #[serde(default)]
        embedding: Option<Path_>,
    }
    let Ok(bytes) = BundleFolder::new(bundle).and_then(|mut f| f.read(MANIFEST_FILE, MAX_MANIFEST_BYTES))
    else {
        return Vec::new();
    };
    let Ok(listed) = serde_json::from_slice::<Listed>(&bytes) else { return Vec::new() };
    let paths =
        listed.atlases.into_iter().chain(listed.layouts).chain(listed.neighbours).chain(listed.embedding);
    paths
        .map(|p| p.path)
        .chain(listed.images.into_iter().map(|i| i.thumb))
        .filter(|rel| check_relative_path("a file", rel).is_ok())
        .collect()
}

/// Delete the files `previous` (a former manifest's [`listed_files`]) named that the new
/// manifest no longer uses. Only regular files in pixfly's own folders of the bundle, never
/// through a link; a file that cannot be removed is left, with a warning.
pub fn remove_superseded<'a>(bundle: &Path, previous: &[String], current: impl IntoIterator<Item = &'a str>) {
    let current: HashSet<&str> = current.into_iter().collect();
    let Ok(root) = std::fs::canonicalize(bundle) else { return };
    for rel in previous.iter().filter(|rel| !current.contains(rel.as_str())) {
        let ours = rel == EMBEDDINGS_FILE
            || rel.split_once('/').is_some_and(|(folder, _)| BUNDLE_FOLDERS.contains(&folder));
        let path = root.join(rel);
        // Through no link: the folder holding it must be where the bundle says it is.
        let direct = path.parent().and_then(|p| std::fs::canonicalize(p).ok()).as_deref() == path.parent();
        let regular = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        if !(ours && direct && regular) {
            continue;
        }
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!("cannot remove {}, which the bundle no longer uses: {e}", path.display());
        }
    }
}

/// `path` made absolute with every link in its existing part resolved (the rest as written,
/// `..` applied), so two spellings of one folder compare equal.
pub fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
        if let Ok(real) = std::fs::canonicalize(&out) {
            out = real;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protected(path: &Path) -> Vec<Protected> {
        vec![Protected { path: path.to_path_buf(), what: "the input", inside_allowed: false }]
    }

    #[test]
    fn refuses_folders_that_are_not_its_own_or_overlap_the_inputs() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("photos");
        std::fs::create_dir_all(input.join("sub")).unwrap();
        let refused = |folder: &Path| claim(folder, FolderKind::Bundle, &protected(&input)).unwrap_err();
        assert!(refused(&input).contains("is the same folder as the input"), "{}", refused(&input));
        assert!(refused(&input.join("sub/bundle")).contains("is inside the input"));
        assert!(refused(tmp.path()).contains("holds the input"));
        assert!(refused(&input.join("sub/../..")).contains("holds the input"), "`..` is resolved");
        assert!(refused(Path::new("/")).contains("choose a new folder"));

        let theirs = tmp.path().join("theirs");
        std::fs::create_dir_all(theirs.join("thumbs")).unwrap();
        std::fs::write(theirs.join("thumbs/holiday.jpg"), b"x").unwrap();
        assert!(refused(&theirs).contains("not a pixfly bundle"), "{}", refused(&theirs));
        assert!(theirs.join("thumbs/holiday.jpg").exists());

        let linked = tmp.path().join("linked");
        std::fs::create_dir_all(&linked).unwrap();
        std::os::unix::fs::symlink(&theirs, linked.join("thumbs")).unwrap();
        std::fs::write(linked.join(".pixfly-bundle"), b"").unwrap();
        assert!(refused(&linked).contains("thumbs is a link"), "{}", refused(&linked));

        let fresh = tmp.path().join("fresh");
        claim(&fresh, FolderKind::Bundle, &protected(&input)).unwrap();
        assert!(fresh.join(".pixfly-bundle").is_file());
        std::fs::write(fresh.join("notes.txt"), b"mine").unwrap();
        claim(&fresh, FolderKind::Bundle, &protected(&input)).expect("its own folder, again");
    }

    #[test]
    fn removes_only_what_an_earlier_manifest_listed_and_never_through_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let bundle = tmp.path().join("b");
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir_all(bundle.join("thumbs")).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        for name in ["old.jpg", "kept.jpg", "notes.txt"] {
            std::fs::write(bundle.join("thumbs").join(name), b"x").unwrap();
        }
        std::fs::write(elsewhere.join("photo.jpg"), b"x").unwrap();
        std::os::unix::fs::symlink(&elsewhere, bundle.join("layouts")).unwrap();
        std::fs::write(bundle.join("plan.pdf"), b"x").unwrap();
        let previous: Vec<String> =
            ["thumbs/old.jpg", "thumbs/kept.jpg", "layouts/photo.jpg", "plan.pdf"].map(String::from).into();
        remove_superseded(&bundle, &previous, ["thumbs/kept.jpg"]);
        assert!(!bundle.join("thumbs/old.jpg").exists());
        assert!(bundle.join("thumbs/kept.jpg").exists() && bundle.join("thumbs/notes.txt").exists());
        assert!(elsewhere.join("photo.jpg").exists(), "not through a link");
        assert!(bundle.join("plan.pdf").exists(), "not outside pixfly's own folders");
    }
}
