//! `pixfly view BUNDLE`

use crate::viewer::{self, ViewOptions, poster::Poster};
use anyhow::{Context, bail};
use bevy::math::Vec2;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ViewArgs {
    /// The bundle folder (made by `pixfly build`).
    bundle: PathBuf,
    /// Layout to show first, by name (see `pixfly info`); the bundle's first by default.
    #[arg(long)]
    layout: Option<String>,
    /// Open this image (by id, see the manifest): selected, its details shown, flown up to.
    #[arg(long, value_name = "ID")]
    image: Option<u32>,
    /// Open with this search: its matches lit, the other images dimmed.
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Render the collection to this PNG and exit, instead of opening an interactive window.
    #[arg(long, value_name = "FILE.png")]
    screenshot: Option<PathBuf>,
    /// Window (and picture) size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x800", value_parser = parse_size)]
    size: (u32, u32),
    /// With --screenshot: frames to render after everything has loaded, before the picture.
    #[arg(long, default_value_t = 3)]
    frames: u32,
    /// With --screenshot: switch to this layout (animated) before the picture.
    #[arg(long, value_name = "LAYOUT", requires = "screenshot")]
    switch_to: Option<String>,
    /// With --screenshot: click at this point (X,Y in pixels from the top-left) before the picture.
    #[arg(long, value_name = "X,Y", value_parser = parse_point, requires = "screenshot")]
    click: Option<Vec2>,
    /// With --screenshot: fly up to this image (by id, see the manifest) before the picture.
    #[arg(long, value_name = "ID", requires = "screenshot")]
    close_up: Option<u32>,
    /// With --screenshot: keep the side panels in the picture.
    #[arg(long, requires = "screenshot")]
    panels: bool,
    /// With --screenshot: write where each image was drawn (JSON) here.
    #[arg(long, value_name = "FILE.json", requires = "screenshot")]
    report: Option<PathBuf>,
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text.split_once(['x', 'X']).ok_or("expected WIDTHxHEIGHT, e.g. 1920x1080")?;
    let parse = |v: &str| v.trim().parse::<u32>().ok().filter(|v| (16..=8192).contains(v));
    match (parse(w), parse(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(format!("{text:?}: width and height must be whole numbers from 16 to 8192")),
    }
}

fn parse_point(text: &str) -> Result<Vec2, String> {
    let (x, y) = text.split_once(',').ok_or("expected X,Y, e.g. 640,400")?;
    match (x.trim().parse::<f32>(), y.trim().parse::<f32>()) {
        (Ok(x), Ok(y)) => Ok(Vec2::new(x, y)),
        _ => Err(format!("{text:?}: expected two numbers, X,Y")),
    }
}

pub fn run(args: ViewArgs) -> anyhow::Result<()> {
    // Fail early, with the reader's own message, rather than in a window.
    pixfly_core::bundle::Bundle::open(&args.bundle)
        .with_context(|| format!("cannot open the bundle {}", args.bundle.display()))?;
    let folder = std::fs::canonicalize(&args.bundle)?;
    let Some(folder) = folder.to_str() else { bail!("{}: the viewer needs a UTF-8 path", folder.display()) };
    let poster = args.screenshot.map(|path| Poster {
        path,
        frames: args.frames.max(1),
        switch_to: args.switch_to,
        click: args.click,
        close_up: args.close_up,
        panels: args.panels,
        report: args.report,
    });
    let exit = viewer::run(ViewOptions {
        bundle: folder.to_string(),
        window_size: args.size,
        layout: args.layout,
        image: args.image,
        search: args.search,
        poster,
    });
    if exit.is_error() {
        bail!("the viewer stopped with an error (see above)");
    }
    Ok(())
}
