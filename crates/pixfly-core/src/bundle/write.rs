//! Writing bundle files so that a crash never leaves a half-written one behind.

use std::io::Write;
use std::path::{Path, PathBuf};

/// One of our own writes failed (disk full, permissions): not an input's fault, so a build stops
/// on it rather than skipping an image.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {cause}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub cause: std::io::Error,
}

/// Write `bytes` to `path` atomically: a temporary file beside it, then renamed over, so a
/// killed run leaves either the old file or the new one. No fsync: that would cost a disk flush
/// per thumbnail, and readers of the cache already treat an unreadable entry as missing.
///
/// The temporary file's name is the target's (`.NAME.tmp`), so what a killed run left is
/// replaced the next time that file is written, and nothing needs to look for leftovers. A
/// build never writes one file from two threads: every file it writes is named by its content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let failed = |cause| WriteError { path: path.to_path_buf(), cause };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(failed)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp); // our own temporary file, never the user's
    }
    result.map_err(failed)
}
