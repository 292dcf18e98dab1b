//! A build killed part-way (SIGKILL, no chance to clean up) resumes without redoing finished work
//! and ends with exactly the bundle an uninterrupted build makes.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn cached_records(bundle: &Path) -> usize {
    let Ok(dirs) = std::fs::read_dir(bundle.join("cache")) else { return 0 };
    dirs.flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .filter(|e| e.path().extension().is_some_and(|x| x == "cell"))
        .count()
}

/// "files      N decoded, M reused from the cache" → (N, M)
fn decoded_and_reused(stdout: &str) -> (usize, usize) {
    let line = stdout.lines().find(|l| l.starts_with("files")).expect("summary has a files line");
    let numbers: Vec<usize> = line.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    (numbers[0], numbers[1])
}

fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = walk(dir)
        .into_iter()
        .filter(|p| !p.strip_prefix(dir).unwrap().starts_with("cache"))
        .map(|p| (p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[test]
fn killed_build_resumes_and_matches_an_uninterrupted_one() {
    const IMAGES: usize = 60;
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write_photo_set(&photos, IMAGES as u32, 640, 480);

    let interrupted = tmp.path().join("interrupted");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pixfly"))
        .args(["build".as_ref(), photos.as_os_str(), "-o".as_ref(), interrupted.as_os_str()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while cached_records(&interrupted) < 10 {
        assert!(Instant::now() < deadline, "the build never got going");
        assert!(child.try_wait().unwrap().is_none(), "the build finished before we could stop it");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let finished = cached_records(&interrupted);
    assert!(finished < IMAGES, "killed part-way ({finished} of {IMAGES} done)");
    assert!(!interrupted.join("manifest.json").exists(), "no manifest from a killed first run");

    let (ok, stdout, stderr) = build(&[&photos], &interrupted, &[]);
    assert!(ok, "{stdout}\n{stderr}");
    let (decoded, reused) = decoded_and_reused(&stdout);
    assert_eq!(reused, finished, "everything finished before the kill is reused\n{stdout}");
    assert_eq!(decoded, IMAGES - finished, "and only the rest is decoded\n{stdout}");

    let straight = tmp.path().join("straight");
    let (ok, stdout, _) = build(&[&photos], &straight, &[]);
    assert!(ok);
    assert_eq!(decoded_and_reused(&stdout), (IMAGES, 0));
    let (a, b) = (files_in(&interrupted), files_in(&straight));
    assert_eq!(a.len(), b.len());
    for ((name_a, bytes_a), (name_b, bytes_b)) in a.iter().zip(&b) {
        assert_eq!(name_a, name_b);
        assert!(bytes_a == bytes_b, "{name_a} differs between the resumed and the straight build");
    }

    // A third run with the same arguments decodes nothing.
    let (ok, stdout, _) = build(&[&photos], &straight, &[]);
    assert!(ok);
    assert_eq!(decoded_and_reused(&stdout), (0, IMAGES));
}
