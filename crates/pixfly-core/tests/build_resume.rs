//! Cancelling a build (what Ctrl-C does) and running it again redoes only the missing work.

use pixfly_core::build::{BuildError, BuildOptions, ModelOptions, Progress, Vectors, build};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Presses "Ctrl-C" once `after` images are done.
struct StopAfter<'a> {
    after: u64,
    done: AtomicU64,
    cancel: &'a AtomicBool,
}

impl Progress for StopAfter<'_> {
    fn stage(&self, _: &str, _: u64) {}
    fn advance(&self) {
        if self.done.fetch_add(1, Ordering::SeqCst) + 1 >= self.after {
            self.cancel.store(true, Ordering::SeqCst);
        }
    }
}

#[test]
fn cancelled_build_resumes_where_it_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for i in 0..40u32 {
        let img =
            image::RgbImage::from_fn(300, 200, |x, y| image::Rgb([(x + i) as u8, (y * i) as u8, i as u8]));
        img.save(photos.join(format!("{i:02}.png"))).unwrap();
    }
    // Small batches, so that the network's progress reaches the stop point early.
    let vectors = Vectors::Model(ModelOptions { batch_size: 4, ..ModelOptions::default() });
    let options =
        BuildOptions { vectors, ..BuildOptions::new(vec![photos.clone()], tmp.path().join("bundle")) };

    let cancel = AtomicBool::new(false);
    let stop = StopAfter { after: 10, done: AtomicU64::new(0), cancel: &cancel };
    let finished = match build(&options, &cancel, &stop) {
        Err(BuildError::Cancelled { finished }) => finished,
        other => panic!("expected a cancelled build, got {other:?}"),
    };
    assert!((10..40).contains(&finished), "stopped part-way: {finished}");
    assert!(!options.output.join("manifest.json").exists());

    let resumed = build(&options, &AtomicBool::new(false), &()).unwrap();
    assert_eq!((resumed.decoded, resumed.from_cache), (40 - finished, finished));
    // Every image that was read before the stop was also embedded: the network drains its queue.
    assert_eq!((resumed.embedded, resumed.embeddings_from_cache), (40 - finished, finished));
    assert_eq!(resumed.images, 40);

    let straight_options = BuildOptions { output: tmp.path().join("straight"), ..options.clone() };
    build(&straight_options, &AtomicBool::new(false), &()).unwrap();
    let read = |o: &BuildOptions| std::fs::read(o.output.join("manifest.json")).unwrap();
    assert_eq!(read(&options), read(&straight_options), "same manifest as an uninterrupted build");
    let vectors = |o: &BuildOptions| std::fs::read(o.output.join("embeddings.npy")).unwrap();
    assert_eq!(vectors(&options), vectors(&straight_options), "same vectors as an uninterrupted build");
}
