//! Turning the command line's INPUTs (folders, files, globs) into a sorted list of image files.

use std::path::{Path, PathBuf};

/// File extensions we try to decode (compared case-insensitively). Anything else in a folder is
/// not an image and is passed over silently; a named file is always tried.
pub const IMAGE_EXTENSIONS: &[&str] =
    &["jpg", "jpeg", "jpe", "jfif", "png", "webp", "tif", "tiff", "gif", "bmp"];

/// One file to ingest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    /// Path relative to the inputs' common folder, `/`-separated: the image's name in the bundle.
    pub filename: String,
    /// Where to read it.
    pub path: PathBuf,
}

/// Something found while walking that could not be used (symlink loop, unreadable folder…).
#[derive(Debug, Clone, PartialEq)]
pub struct WalkProblem {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Discovered {
    /// Sorted by `filename`, without repeats.
    pub files: Vec<SourceFile>,
    pub problems: Vec<WalkProblem>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("input {0:?} does not exist and matches no files as a glob pattern")]
    NotFound(String),
    #[error("input {input:?} is not a valid glob pattern: {reason}")]
    BadPattern { input: String, reason: String },
}

pub fn is_image_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

fn looks_like_glob(input: &str) -> bool {
    input.contains(['*', '?', '['])
}

/// Find every image under `inputs`. Folders are walked recursively following symlinks (loops are
/// reported, not followed forever); globs are expanded; plain files are taken as they are.
pub fn discover(inputs: &[PathBuf]) -> Result<Discovered, DiscoverError> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut roots: Vec<PathBuf> = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        let text = input.to_string_lossy();
        if input.is_dir() {
            roots.push(input.clone());
            walk(input, &mut found, &mut problems);
        } else if input.is_file() {
            roots.push(input.parent().map(Path::to_path_buf).unwrap_or_default());
            found.push(input.clone());
        } else if looks_like_glob(&text) {
            let paths = glob::glob(&text)
                .map_err(|e| DiscoverError::BadPattern { input: text.to_string(), reason: e.to_string() })?;
            roots.push(glob_base(input));
            let before = found.len();
            for entry in paths {
                match entry {
                    Ok(path) if path.is_dir() => walk(&path, &mut found, &mut problems),
                    Ok(path) if is_image_path(&path) => found.push(path),
                    Ok(_) => {}
                    Err(e) => problems
                        .push(WalkProblem { path: e.path().to_path_buf(), reason: e.error().to_string() }),
                }
            }
            if found.len() == before {
                return Err(DiscoverError::NotFound(text.to_string()));
            }
        } else {
            return Err(DiscoverError::NotFound(text.to_string()));
        }
    }
    let base = common_ancestor(&roots);
    let mut files: Vec<SourceFile> =
        found.into_iter().map(|path| SourceFile { filename: relative_name(&base, &path), path }).collect();
    files.sort();
    files.dedup_by(|a, b| a.filename == b.filename);
    Ok(Discovered { files, problems })
}

/// The folder or file an INPUT reads from, and whether a folder inside it could be read too
/// (a glob such as `scans/*.tif` reads only what its one pattern matches).
pub fn input_root(input: &Path) -> (PathBuf, bool) {
    let text = input.to_string_lossy();
    if input.exists() || !looks_like_glob(&text) {
        return (input.to_path_buf(), true);
    }
    let base = glob_base(input);
    let patterns = input.components().count() - base.components().count();
    let base = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base };
    (base, patterns > 1 || text.contains("**"))
}

/// Folders that pixfly made (a bundle, a site) hold no one's originals: never ingested.
fn is_pixfly_folder(dir: &Path) -> bool {
    [".pixfly-bundle", ".pixfly-site"].iter().any(|marker| dir.join(marker).is_file())
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>, problems: &mut Vec<WalkProblem>) {
    let walker = walkdir::WalkDir::new(dir).follow_links(true).into_iter();
    for entry in walker.filter_entry(|e| !(e.file_type().is_dir() && is_pixfly_folder(e.path()))) {
        match entry {
            Ok(e) if e.file_type().is_file() && is_image_path(e.path()) => found.push(e.into_path()),
            Ok(_) => {}
            Err(e) => {
                let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| dir.to_path_buf());
                let reason = if e.loop_ancestor().is_some() {
                    "symbolic link loop, not followed".to_string()
                } else {
                    e.io_error().map(|io| io.to_string()).unwrap_or_else(|| e.to_string())
                };
                problems.push(WalkProblem { path, reason });
            }
        }
    }
}

/// The folder part of a glob before its first wildcard: `photos/**/*.jpg` → `photos`.
fn glob_base(pattern: &Path) -> PathBuf {
    pattern.components().take_while(|c| !looks_like_glob(&c.as_os_str().to_string_lossy())).collect()
}

fn common_ancestor(roots: &[PathBuf]) -> PathBuf {
    let mut iter = roots.iter();
    let Some(first) = iter.next() else { return PathBuf::new() };
    let mut base: Vec<_> = first.components().collect();
    for root in iter {
        let same = base.iter().zip(root.components()).take_while(|(a, b)| **a == *b).count();
        base.truncate(same);
    }
    base.into_iter().collect()
}

fn relative_name(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_base_stops_at_first_wildcard() {
        assert_eq!(glob_base(Path::new("a/b/*/c/*.jpg")), PathBuf::from("a/b"));
        assert_eq!(glob_base(Path::new("*.png")), PathBuf::new());
    }

    #[test]
    fn common_ancestor_of_sibling_folders() {
        let roots = [PathBuf::from("/x/photos/a"), PathBuf::from("/x/photos/b/c")];
        assert_eq!(common_ancestor(&roots), PathBuf::from("/x/photos"));
    }

    #[test]
    fn relative_names_use_forward_slashes() {
        assert_eq!(relative_name(Path::new("/x"), Path::new("/x/a b/ü.jpg")), "a b/ü.jpg");
    }
}
