//! Reading the files a bundle folder names, safely: only regular files that resolve inside the
//! folder (a bundle received as a tarball may hold links to `/etc/passwd` or `/dev/zero`), and
//! never more bytes than the manifest implies, checked from the file's size before reading.

use super::BundleError;
use super::validate::check_relative_path;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The most a manifest may take (a million images take about 270 MB).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 30;

fn io(path: &Path, cause: std::io::Error) -> BundleError {
    BundleError::Io { path: path.display().to_string(), cause }
}

/// A bundle folder to read from.
#[derive(Debug)]
pub struct BundleFolder {
    dir: PathBuf,
    /// The folder with every link resolved.
    root: PathBuf,
    /// Folders inside the bundle already checked, by relative path: where they really are.
    checked: HashMap<String, PathBuf>,
}

impl BundleFolder {
    pub fn new(dir: &Path) -> Result<BundleFolder, BundleError> {
        let root = std::fs::canonicalize(dir).map_err(|e| io(dir, e))?;
        Ok(BundleFolder { dir: dir.to_path_buf(), root, checked: HashMap::new() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where `rel` really is, if it is a regular file inside the bundle.
    pub fn resolve(&mut self, rel: &str) -> Result<PathBuf, BundleError> {
        check_relative_path("a file", rel)?;
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        let folder = match self.checked.get(parent) {
            Some(folder) => folder.clone(),
            None => {
                let path = self.dir.join(parent);
                let real = std::fs::canonicalize(&path).map_err(|e| io(&path, e))?;
                if !real.starts_with(&self.root) {
                    return Err(outside(parent, &real));
                }
                self.checked.insert(parent.to_string(), real.clone());
                real
            }
        };
        let mut path = folder.join(name);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&self.dir.join(rel), e))?;
        if meta.file_type().is_symlink() {
            path = std::fs::canonicalize(&path).map_err(|e| io(&self.dir.join(rel), e))?;
            if !path.starts_with(&self.root) {
                return Err(outside(rel, &path));
            }
        }
        let meta = std::fs::metadata(&path).map_err(|e| io(&self.dir.join(rel), e))?;
        if !meta.is_file() {
            return Err(BundleError::Invalid(format!("{rel} is not a regular file")));
        }
        Ok(path)
    }

    /// Open `rel` (see [`BundleFolder::resolve`]) and give its size.
    pub fn open(&mut self, rel: &str) -> Result<(std::fs::File, u64), BundleError> {
        let path = self.resolve(rel)?;
        let file = std::fs::File::open(&path).map_err(|e| io(&path, e))?;
        let len = file.metadata().map_err(|e| io(&path, e))?.len();
        Ok((file, len))
    }

    /// Read `rel` whole, if it holds at most `limit` bytes.
    pub fn read(&mut self, rel: &str, limit: u64) -> Result<Vec<u8>, BundleError> {
        let (file, len) = self.open(rel)?;
        let too_large = |len: u64| {
            BundleError::Invalid(format!(
                "{rel} holds {len} bytes, more than the {limit} the manifest allows"
            ))
        };
        if len > limit {
            return Err(too_large(len));
        }
        let mut bytes = Vec::with_capacity(len as usize);
        // The size can change after the check (a file still being written): read no more anyway.
        file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| io(&self.dir.join(rel), e))?;
        if bytes.len() as u64 > limit {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(bytes)
    }
}

fn outside(rel: &str, real: &Path) -> BundleError {
    let rel = if rel.is_empty() { "the bundle folder" } else { rel };
    BundleError::Invalid(format!(
        "{rel} is a link to {}, outside the bundle: a bundle may only name its own files",
        real.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_inside_and_refuses_links_out_and_oversized_files() {
        let dir = tempfile::tempdir().unwrap();
        let outside_dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("thumbs")).unwrap();
        std::fs::write(dir.path().join("thumbs/a.jpg"), b"abc").unwrap();
        std::fs::write(outside_dir.path().join("secret"), b"secret").unwrap();
        std::os::unix::fs::symlink(outside_dir.path().join("secret"), dir.path().join("thumbs/b.jpg"))
            .unwrap();
        std::os::unix::fs::symlink("a.jpg", dir.path().join("thumbs/c.jpg")).unwrap();
        std::os::unix::fs::symlink(outside_dir.path(), dir.path().join("layouts")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
        std::fs::create_dir(dir.path().join("atlases")).unwrap();

        let mut folder = BundleFolder::new(dir.path()).unwrap();
        assert_eq!(folder.read("thumbs/a.jpg", 3).unwrap(), b"abc");
        assert_eq!(folder.read("thumbs/c.jpg", 3).unwrap(), b"abc", "a link inside the bundle is fine");
        let message = |r: Result<Vec<u8>, BundleError>| r.unwrap_err().to_string();
        assert!(message(folder.read("thumbs/a.jpg", 2)).contains("holds 3 bytes, more than the 2"));
        assert!(message(folder.read("thumbs/b.jpg", 100)).contains("outside the bundle"));
        assert!(message(folder.read("layouts/secret", 100)).contains("layouts is a link to"));
        assert!(message(folder.read("zero", 100)).contains("outside the bundle"));
        assert!(message(folder.read("atlases", 100)).contains("not a regular file"));
        assert!(message(folder.read("../x", 100)).contains("stay inside the bundle"));
    }
}
