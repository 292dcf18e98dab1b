//! The build on its own thread, and what it reports, as messages.

use bevy::prelude::*;
use pixfly_core::build::{BuildError, BuildOptions, BuildReport, Progress, Vectors, build};
use pixfly_core::bundle::Bundle;
use pixfly_core::cache::{CachedImage, ImageCache};
use pixfly_core::embed::{Embedding, ModelInfo};
use pixfly_core::ingest::SourceFile;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Reports waiting for the app; the build waits when the app falls this far behind.
const QUEUE: usize = 4096;
/// Reports drained per frame at most, so a burst of cached images cannot stall a frame.
const PER_FRAME: usize = 2048;
/// UMAP's running layout is reported this many times per run (and at its end).
const LAYOUT_STEPS: usize = 30;

/// What the build reports, as it happens.
pub enum Report {
    /// Files found (the size of the arrival grid).
    Found(usize),
    Network {
        classes: Vec<String>,
    },
    /// The network could not be loaded: the images assemble without vectors.
    NoNetwork(String),
    Read {
        hash: String,
        filename: String,
        image: CachedImage,
        thumb: String,
        cell: image::RgbImage,
    },
    Skipped {
        filename: String,
        reason: String,
    },
    Embedded {
        hash: String,
        top_classes: Vec<(u32, f32)>,
    },
    /// UMAP's running positions, normalised like every layout.
    Epoch {
        dims: usize,
        positions: Vec<[f32; 3]>,
    },
    Finished(Result<Box<(BuildReport, Bundle)>, String>),
}

/// One report, for the stage that reads it.
#[derive(Message)]
pub struct Reported(pub Arc<Report>);

/// The build's thread, how to stop it, and what it has reported.
#[derive(Resource)]
pub struct Worker {
    inbox: Mutex<Receiver<Report>>,
    pub cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The stage the build is in, how much it has of it, and how far it is.
    pub stage: Arc<Mutex<(String, u64)>>,
    pub done: Arc<AtomicU64>,
    pub output: std::path::PathBuf,
}

/// Wakes the app's event loop (which, while assembling, sleeps between paced frames).
pub type Wake = Arc<dyn Fn() + Send + Sync>;

impl Worker {
    /// Start the build; `wake` is called once it has finished, so the app takes the bundle in at
    /// once rather than at its next paced frame.
    pub fn start(options: BuildOptions, wake: Option<Wake>) -> Worker {
        let (outbox, inbox) = std::sync::mpsc::sync_channel(QUEUE);
        let cancel = Arc::new(AtomicBool::new(false));
        let stage = Arc::new(Mutex::new((String::from("Finding files"), 0)));
        let done = Arc::new(AtomicU64::new(0));
        let output = options.output.clone();
        let watcher = Watcher {
            outbox,
            stage: stage.clone(),
            done: done.clone(),
            read: AtomicUsize::new(0),
            reported: Mutex::new(vec![0; 4]),
        };
        let flag = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("pixfly build".into())
            .spawn(move || {
                run(options, &flag, &watcher);
                if let Some(wake) = wake {
                    wake();
                }
            })
            .expect("a thread can be started");
        Worker { inbox: Mutex::new(inbox), cancel, thread: Some(thread), stage, done, output }
    }

    /// Stop the build after the images in progress, waiting a few seconds for them: every
    /// image it finished is in the cache already (written atomically), so a build still busy
    /// after that (laying out, which does not stop part-way) is simply left to end with the app.
    pub fn stop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        // Dropping the inbox unblocks a build waiting to report.
        *self.inbox.lock().expect("inbox") = std::sync::mpsc::sync_channel(0).1;
        let Some(thread) = self.thread.take() else { return };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if thread.is_finished() {
            let _ = thread.join();
        }
    }
}

/// The build, on a pool of every core at a lower priority than the window's (so a frame gets
/// the CPU the moment it needs it, and the build the rest), or where threads cannot be given
/// their own priority, one core short of the machine; if the network cannot be loaded, again
/// without it (the images still assemble, on the arrival grid).
fn run(options: BuildOptions, cancel: &AtomicBool, watcher: &Watcher) {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let threads = if below_the_window() { cores } else { cores.saturating_sub(1).max(1) };
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(e) => return watcher.send(Report::Finished(Err(format!("cannot start threads: {e}")))),
    };
    let mut options = options;
    if let Vectors::Model(model) = &mut options.vectors
        && model.threads == 0
    {
        model.threads = threads;
    }
    let finish = |result: Result<BuildReport, BuildError>| match result {
        Ok(report) => match Bundle::open(&options.output) {
            Ok(bundle) => Report::Finished(Ok(Box::new((report, bundle)))),
            Err(e) => Report::Finished(Err(format!("the bundle written cannot be read back: {e}"))),
        },
        Err(e) => Report::Finished(Err(e.to_string())),
    };
    let result = pool.install(|| build(&options, cancel, watcher));
    let result = match result {
        Err(BuildError::Embed(e)) if watcher.read.load(Ordering::Relaxed) == 0 => {
            watcher.send(Report::NoNetwork(e.to_string()));
            options.vectors = Vectors::None;
            pool.install(|| build(&options, cancel, watcher))
        }
        other => other,
    };
    watcher.send(finish(result));
}

/// Lower this thread's priority, and so that of the threads it starts (the decoders', the
/// network's): on Linux each thread has its own nice value, inherited by the threads it starts.
#[cfg(target_os = "linux")]
fn below_the_window() -> bool {
    // SAFETY: setpriority only reads its arguments; `0` is the calling thread on Linux.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, BUILD_NICENESS) == 0 }
}

/// Elsewhere the nice value is the whole process's: the window keeps a core instead.
#[cfg(not(target_os = "linux"))]
fn below_the_window() -> bool {
    false
}

/// The build's nice value (the window's is 0; 19 is the lowest priority): CPU time is shared
/// about 1 : 10 when both want it.
#[cfg(target_os = "linux")]
const BUILD_NICENESS: libc::c_int = 10;

/// The build's [`Progress`]: counts for the panel, reports for the stages.
struct Watcher {
    outbox: SyncSender<Report>,
    stage: Arc<Mutex<(String, u64)>>,
    done: Arc<AtomicU64>,
    read: AtomicUsize,
    /// The last epoch reported, per dimension count.
    reported: Mutex<Vec<usize>>,
}

impl Watcher {
    fn send(&self, report: Report) {
        // The app has gone (its window closed): the build is being cancelled.
        let _ = self.outbox.send(report);
    }
}

impl Progress for Watcher {
    fn stage(&self, name: &str, total: u64) {
        if name.starts_with("Reading") {
            self.send(Report::Found(total as usize));
        }
        *self.stage.lock().expect("stage") = (name.to_string(), total);
        self.done.store(0, Ordering::Relaxed);
    }

    fn advance(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    fn network(&self, info: &ModelInfo) {
        self.send(Report::Network { classes: info.classes.clone() });
    }

    fn image_read(&self, file: &SourceFile, hash: &str, image: &CachedImage, cache: &ImageCache) {
        self.read.fetch_add(1, Ordering::Relaxed);
        match cache.cell(hash) {
            Ok(cell) => self.send(Report::Read {
                hash: hash.to_string(),
                filename: file.filename.clone(),
                image: *image,
                thumb: cache.thumb_path(hash),
                cell,
            }),
            Err(reason) => warn!("cannot show {} while it assembles: {reason}", file.filename),
        }
    }

    fn image_skipped(&self, file: &SourceFile, reason: &str) {
        self.send(Report::Skipped { filename: file.filename.clone(), reason: reason.to_string() });
    }

    fn image_embedded(&self, hash: &str, embedding: &Embedding) {
        self.send(Report::Embedded { hash: hash.to_string(), top_classes: embedding.top_classes.clone() });
    }

    fn layout_epoch(&self, dims: usize, epoch: usize, epochs: usize, coordinates: &[f32]) {
        let every = epochs.div_ceil(LAYOUT_STEPS).max(1);
        {
            let mut reported = self.reported.lock().expect("epochs");
            if epoch < epochs && epoch < reported[dims] + every {
                return;
            }
            reported[dims] = epoch;
        }
        let positions = coordinates
            .chunks_exact(dims)
            .map(|c| [c[0], c[1], if dims == 3 { c[2] } else { 0.0 }])
            .collect();
        let positions = pixfly_core::layout::normalise(positions);
        self.send(Report::Epoch { dims, positions });
    }
}

/// Everything the build reported since the last frame, as messages for the stages.
pub fn receive(worker: Res<Worker>, mut reported: MessageWriter<Reported>) {
    let inbox = worker.inbox.lock().expect("inbox");
    for _ in 0..PER_FRAME {
        match inbox.try_recv() {
            Ok(report) => {
                reported.write(Reported(Arc::new(report)));
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
        }
    }
}
