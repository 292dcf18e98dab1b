//! Running the network over a stream of pictures with every core busy.
//!
//! Several sessions, each on its own thread with a few intra-op threads, beat one session with
//! many: every operator of a session waits for its slowest thread, and on a small machine the
//! image decoders keep preempting one of them. Measured on 2 cores (bench/embed.sh): two
//! 1-thread sessions embed ~15–20 % more images per second in `build` than one 2-thread session.

use super::{Device, EmbedError, Embedding, Model};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;

/// More sessions than this cost memory (each holds its activations) for little gain.
const MAX_SESSIONS: usize = 4;

/// Load the model once per session for `threads` threads in all (0: one per core).
pub fn load_sessions(path: &Path, threads: usize, device: Device) -> Result<Vec<Model>, EmbedError> {
    let cores = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    // A GPU runs one session's batches back to back; more sessions would only compete for it.
    let sessions = if device == Device::Cuda { 1 } else { cores.min(MAX_SESSIONS) };
    (0..sessions).map(|_| Model::load(path, cores / sessions, device)).collect()
}

/// Embed the pictures that arrive in `inbox` (each with a key, such as a content hash) in
/// batches of `batch_size` (the last may be short), handing each result to `done` as soon as
/// its batch is finished. Returns when the senders are gone, or at the first error.
pub fn serve<K: Send, E: From<EmbedError> + Send>(
    sessions: Vec<Model>,
    batch_size: usize,
    inbox: Receiver<(K, image::RgbImage)>,
    done: &(dyn Fn(K, Embedding) -> Result<(), E> + Sync),
) -> Result<(), E> {
    let inbox = Mutex::new(inbox);
    let failed = AtomicBool::new(false);
    let work = |mut model: Model| -> Result<(), E> {
        while !failed.load(Ordering::Relaxed) {
            // One session fills its batch while the others run theirs.
            let batch: Vec<_> =
                inbox.lock().expect("no thread panics holding it").iter().take(batch_size.max(1)).collect();
            if batch.is_empty() {
                break;
            }
            let (keys, pictures): (Vec<K>, Vec<image::RgbImage>) = batch.into_iter().unzip();
            let result = model.embed(&pictures).map_err(E::from).and_then(|embeddings| {
                keys.into_iter().zip(embeddings).try_for_each(|(key, embedding)| done(key, embedding))
            });
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
                return result;
            }
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = sessions.into_iter().map(|model| scope.spawn(|| work(model))).collect();
        workers.into_iter().try_for_each(|w| w.join().expect("a network thread does not panic"))
    })
}
