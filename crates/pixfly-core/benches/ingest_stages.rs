//! Where ingest time goes, one stage at a time, on one thread: reading and hashing, decoding,
//! thumbnails (linear-light reduce + bicubic) and JPEG encoding of the thumbnail. Each stage's
//! seconds and share of the total, for the collection in
//! `PIXFLY_BENCH_COLLECTION` (default: the demo collection in the cache).

use pixfly_core::ingest::{self, DEFAULT_MAX_PIXELS};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let folder = std::env::var_os("PIXFLY_BENCH_COLLECTION").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("PIXFLY_CACHE").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/pixfly")
        });
        cache.join("stellarium-data-0.22.2-1")
    });
    let found = ingest::discover(std::slice::from_ref(&folder)).expect("the collection folder exists");
    let mut times = [Duration::ZERO; 4];
    let mut count = 0;
    for file in &found.files {
        let mut t = Instant::now();
        let mut lap = |stage: usize| {
            times[stage] += t.elapsed();
            t = Instant::now();
        };
        let bytes = std::fs::read(&file.path).expect("readable");
        blake3::hash(&bytes);
        lap(0);
        let Ok(decoded) = ingest::decode(&bytes, 256, 0, DEFAULT_MAX_PIXELS) else { continue };
        lap(1);
        let thumbs = ingest::make_thumbnails(decoded.image, 256, 64);
        lap(2);
        std::hint::black_box(pixfly_core::encode::jpeg(&thumbs.thumb, 85));
        lap(3);
        count += 1;
    }
    let total: f64 = times.iter().map(Duration::as_secs_f64).sum();
    println!("{count} images from {}, one thread", folder.display());
    for (name, time) in ["read + hash", "decode", "thumbnails", "encode thumbnail"].iter().zip(times) {
        let s = time.as_secs_f64();
        println!("{name:18} {s:6.2} s {:5.1} %", 100.0 * s / total);
    }
    println!("{:18} {total:6.2} s", "total");
}
