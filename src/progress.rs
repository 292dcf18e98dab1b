//! Progress bars and log lines that don't trample each other.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::{LazyLock, Mutex};

/// Every bar lives here, so log lines can be printed above them.
static BARS: LazyLock<MultiProgress> = LazyLock::new(MultiProgress::new);

/// `tracing` to stderr (level from `RUST_LOG`, default info), printed above any progress bar.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,wgpu=error,naga=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .without_time()
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(|| AboveBars(Vec::new()))
        .init();
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
