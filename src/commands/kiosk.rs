//! `pixfly kiosk BUNDLE`: the viewer for an exhibition (docs/kiosk.md).

use super::view::parse_size;
use crate::kiosk::KioskPlugin;
use crate::kiosk::lockdown::StopRequested;
use crate::kiosk::replaced::{BundleStamp, Restart};
use crate::kiosk::simulate::{Script, SimulationPlugin};
use crate::viewer::{self, ViewOptions};
use anyhow::{Context, bail};
use bevy::math::Vec2;
use bevy::window::MonitorSelection;
use pixfly_core::tour::{TOUR_FILE, Tour};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct KioskArgs {
    /// The bundle folder (made by `pixfly build`).
    bundle: PathBuf,
    /// The attract tour (docs/kiosk.md); else the bundle's own tour.json, else its largest hotspots.
    #[arg(long, value_name = "TOUR.json")]
    tour: Option<PathBuf>,
    /// Seconds without a touch before "Are you still exploring?" (then 10 s more to the reset).
    #[arg(long, default_value_t = 90.0, value_parser = parse_idle)]
    idle: f32,
    /// The monitor to fill, counted from 0 from the left (then from the top); the primary one by default.
    #[arg(long, value_name = "N")]
    display: Option<usize>,
    /// Run on simulated time, write this picture and exit (for tests and posters).
    #[arg(long, value_name = "FILE.png")]
    screenshot: Option<PathBuf>,
    /// With --screenshot: simulated seconds after the collection appears.
    #[arg(long, default_value_t = 20.0, requires = "screenshot")]
    after: f32,
    /// With --screenshot: tap here at this simulated second (X,Y in pixels from the top-left).
    #[arg(long, value_name = "X,Y@SECONDS", value_parser = parse_touch, requires = "screenshot")]
    touch: Vec<(Vec2, f32)>,
    /// With --screenshot: two fingers spread apart around here at this simulated second (a
    /// pinch that zooms in).
    #[arg(long, value_name = "X,Y@SECONDS", value_parser = parse_touch, requires = "screenshot")]
    pinch: Vec<(Vec2, f32)>,
    /// With --screenshot: write what is shown (mode, stop, caption, memory) here.
    #[arg(long, value_name = "FILE.json", requires = "screenshot")]
    report: Option<PathBuf>,
    /// With --screenshot: the window's size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080", value_parser = parse_size, requires = "screenshot")]
    size: (u32, u32),
    /// With --screenshot: simulated seconds per frame (larger for long soak runs).
    #[arg(long, default_value_t = 1.0 / 30.0, requires = "screenshot")]
    step: f32,
    /// With --screenshot: visitors tapping at random moments, this many per simulated hour.
    #[arg(long, default_value_t = 0.0, requires = "screenshot")]
    visitors_per_hour: f32,
}

fn parse_idle(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(seconds) if (5.0..=86_400.0).contains(&seconds) => Ok(seconds),
        _ => Err(format!("{text:?}: seconds from 5 to 86400")),
    }
}

fn parse_touch(text: &str) -> Result<(Vec2, f32), String> {
    let expected = || format!("{text:?}: expected X,Y@SECONDS, e.g. 960,540@12");
    let (point, at) = text.split_once('@').ok_or_else(expected)?;
    let (x, y) = point.split_once(',').ok_or_else(expected)?;
    let number = |v: &str| v.trim().parse::<f32>().ok().filter(|v| v.is_finite() && *v >= 0.0);
    match (number(x), number(y), number(at)) {
        (Some(x), Some(y), Some(at)) => Ok((Vec2::new(x, y), at)),
        _ => Err(expected()),
    }
}

/// The tour asked for, else the bundle's own, checked against the bundle.
pub(crate) fn read_tour(tour: Option<&Path>, bundle: &Path) -> anyhow::Result<Option<Tour>> {
    let own = bundle.join(TOUR_FILE);
    let Some(path) = tour.or(own.is_file().then_some(own.as_path())) else { return Ok(None) };
    let mut manifest = pixfly_core::bundle::Bundle::open(bundle)
        .with_context(|| format!("cannot open the bundle {}", bundle.display()))?
        .manifest;
    // The tour names hotspots as the curator named them.
    if let Ok(bytes) = std::fs::read(bundle.join(pixfly_core::names::NAMES_FILE)) {
        pixfly_core::names::apply(&mut manifest, &bytes).map_err(anyhow::Error::msg)?;
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read the tour {}", path.display()))?;
    let tour = Tour::parse(&bytes, &manifest).with_context(|| format!("{}", path.display()))?;
    Ok(Some(tour))
}

pub fn run(args: KioskArgs) -> anyhow::Result<()> {
    crate::kiosk::memory::limit_arenas();
    let tour = read_tour(args.tour.as_deref(), &args.bundle)?;
    pixfly_core::bundle::Bundle::open(&args.bundle)
        .with_context(|| format!("cannot open the bundle {}", args.bundle.display()))?;
    let folder = std::fs::canonicalize(&args.bundle)?;
    let Some(folder_text) = folder.to_str() else {
        bail!("{}: the viewer needs a UTF-8 path", folder.display())
    };
    // SIGTERM (systemd stopping it) and Ctrl-C quit cleanly, with exit code 0.
    let stop = StopRequested::default();
    let flag = stop.0.clone();
    ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::Relaxed))
        .context("cannot install the signal handler")?;
    let script = args.screenshot.map(|screenshot| Script {
        screenshot,
        after: args.after,
        touches: args.touch,
        pinches: args.pinch,
        step: args.step.clamp(0.001, 10.0),
        report: args.report,
        visitors_per_hour: args.visitors_per_hour,
    });
    let options = ViewOptions {
        bundle: folder_text.to_string(),
        window_size: if script.is_some() { args.size } else { (1920, 1080) },
        fullscreen: script
            .is_none()
            .then(|| args.display.map_or(MonitorSelection::Primary, MonitorSelection::Index)),
        locked: true,
        pictures: script.is_some(),
        ..ViewOptions::default()
    };
    let mut app = viewer::app(options, true);
    let restart = Restart::default();
    app.add_plugins(KioskPlugin { tour, idle_seconds: args.idle })
        .insert_resource(stop)
        .insert_resource(restart.clone())
        .insert_resource(BundleStamp::of(&folder));
    if let Some(script) = script {
        app.add_plugins(SimulationPlugin(script));
    }
    let exit = app.run();
    if exit.is_error() {
        bail!("the kiosk stopped with an error (see above)");
    }
    #[cfg(unix)]
    if restart.0.load(std::sync::atomic::Ordering::Relaxed) {
        // The bundle was replaced on disk: start again on it, as the same command.
        use std::os::unix::process::CommandExt;
        let program = std::env::current_exe().context("cannot find pixfly to restart it")?;
        let error = std::process::Command::new(program).args(std::env::args_os().skip(1)).exec();
        bail!("cannot restart on the new bundle: {error}");
    }
    Ok(())
}
