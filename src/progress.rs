//! Progress bars and log lines that don't trample each other.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Every bar lives here, so log lines can be printed above them.
static BARS: LazyLock<MultiProgress> = LazyLock::new(MultiProgress::new);

/// `tracing` to stderr (level from `RUST_LOG`, default info), printed above any progress bar.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,wgpu=error,naga=warn"));
    let lines = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time()
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(|| AboveBars(Vec::new()));
    tracing_subscriber::registry().with(filter).with(lines).with(CountErrors).init();
}

static ERRORS: AtomicUsize = AtomicUsize::new(0);

/// Errors logged so far: a kiosk's soak test must end with none.
pub fn errors_logged() -> usize {
    ERRORS.load(Ordering::Relaxed)
}

struct CountErrors;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountErrors {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::ERROR {
            ERRORS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Buffers one log line, then prints it while the bars are hidden.
struct AboveBars(Vec<u8>);

impl Write for AboveBars {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for AboveBars {
    fn drop(&mut self) {
        BARS.suspend(|| {
            let _ = std::io::stderr().write_all(&self.0);
        });
    }
}

/// A [`pixfly_core::build::Progress`] drawn as one indicatif bar per stage.
#[derive(Default)]
pub struct Bars {
    current: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn finish(&self) {
        if let Some(bar) = self.current.lock().expect("bar lock").take() {
            bar.finish();
        }
    }
}

impl pixfly_core::build::Progress for Bars {
    fn stage(&self, name: &str, total: u64) {
        self.finish();
        let bar = BARS.add(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(name.to_string());
        *self.current.lock().expect("bar lock") = Some(bar);
    }

    fn advance(&self) {
        if let Some(bar) = &*self.current.lock().expect("bar lock") {
            bar.inc(1);
        }
    }
}
