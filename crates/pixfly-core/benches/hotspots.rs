//! How hotspot finding (HDBSCAN over a 2D layout, medoids) scales: 50 round groups of points in
//! 2D at 10,000, 100,000 and 1,000,000 points (`PIXFLY_BENCH_SIZES` to change), each timed and
//! given as a ratio to the first size in the same run.

use pixfly_core::reduce::clusters::{self, ClusterOptions};
use pixfly_core::reduce::{Points, Rng};
use std::time::Instant;

fn main() {
    let sizes: Vec<usize> = std::env::var("PIXFLY_BENCH_SIZES")
        .map(|v| v.split(',').map(|s| s.trim().parse().expect("sizes like 10000,100000")).collect())
        .unwrap_or_else(|_| vec![10_000, 100_000, 1_000_000]);
    let mut first = None;
    println!("| points | hotspots | in them | seconds | per point vs {} |", sizes[0]);
    println!("|---|---|---|---|---|");
    for n in sizes {
        let mut rng = Rng::new(5);
        let centres: Vec<(f64, f64)> =
            (0..50).map(|_| (rng.unit() * 2.0 - 1.0, rng.unit() * 2.0 - 1.0)).collect();
        let positions: Vec<[f32; 3]> = (0..n)
            .map(|i| {
                let (x, y) = centres[i % centres.len()];
                [(x + rng.normal() * 0.03) as f32, (y + rng.normal() * 0.03) as f32, 0.0]
            })
            .collect();
        let vectors = Points::new(positions.iter().flat_map(|p| [p[0], p[1]]).collect(), n, 2);
        let t = Instant::now();
        let groups = clusters::find(&positions, &vectors, &ClusterOptions::default());
        let seconds = t.elapsed().as_secs_f64();
        let per_point = seconds / n as f64;
        let reference = *first.get_or_insert(per_point);
        let inside: usize = groups.iter().map(|g| g.members.len()).sum();
        println!("| {n} | {} | {inside} | {seconds:.2} | {:.2}× |", groups.len(), per_point / reference);
    }
}
