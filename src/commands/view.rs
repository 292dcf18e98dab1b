//! `pixfly view BUNDLE`

use crate::viewer::{self, ViewOptions, poster::Poster};
use anyhow::{Context, bail};
use bevy::input::keyboard::KeyCode;
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
    /// With --screenshot: press these keys in turn before the picture, each held for a number
    /// of frames (1 by default), e.g. "G W*40" turns fly mode on and flies forward.
    #[arg(long, value_name = "KEYS", value_parser = parse_keys, requires = "screenshot")]
    keys: Option<KeyPresses>,
    /// With --screenshot: keep the side panels in the picture.
    #[arg(long, requires = "screenshot")]
    panels: bool,
    /// With --screenshot: write where each image was drawn (JSON) here.
    #[arg(long, value_name = "FILE.json", requires = "screenshot")]
    report: Option<PathBuf>,
}

pub(crate) fn parse_size(text: &str) -> Result<(u32, u32), String> {
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

/// Keys to press in turn, each with the frames to hold it.
#[derive(Clone)]
struct KeyPresses(Vec<(KeyCode, u32)>);

/// Keys as the help overlay names them (letters, digits, arrows...), each with `*FRAMES`.
fn parse_keys(text: &str) -> Result<KeyPresses, String> {
    use KeyCode::*;
    text.split_whitespace()
        .map(|word| {
            let (name, frames) = word.split_once('*').unwrap_or((word, "1"));
            let frames = frames.parse::<u32>().ok().filter(|&f| f > 0);
            let key = match name.to_ascii_lowercase().as_str() {
                "a" => KeyA,
                "d" => KeyD,
                "e" => KeyE,
                "f" => KeyF,
                "g" => KeyG,
                "h" => KeyH,
                "q" => KeyQ,
                "r" => KeyR,
                "s" => KeyS,
                "w" => KeyW,
                "up" => ArrowUp,
                "down" => ArrowDown,
                "left" => ArrowLeft,
                "right" => ArrowRight,
                "home" => Home,
                "tab" => Tab,
                "escape" => Escape,
                "f1" => F1,
                "+" => Equal,
                "-" => Minus,
                digit => match digit.parse::<u8>() {
                    Ok(n @ 1..=9) => [Digit1, Digit2, Digit3, Digit4, Digit5, Digit6, Digit7, Digit8, Digit9]
                        [n as usize - 1],
                    _ => return Err(format!("{name:?} is not a key the viewer uses")),
                },
            };
            frames
                .map(|f| (key, f))
                .ok_or_else(|| format!("{word:?}: hold for a whole number of frames, e.g. W*40"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(KeyPresses)
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
        keys: args.keys.map(|k| k.0).unwrap_or_default(),
        panels: args.panels,
        report: args.report,
    });
    let pictures = poster.is_some();
    let mut app = viewer::app(
        ViewOptions {
            bundle: folder.to_string(),
            window_size: args.size,
            layout: args.layout,
            image: args.image,
            search: args.search,
            poster,
            ..ViewOptions::default()
        },
        true,
    );
    if !pictures {
        app.add_plugins(viewer::curation::CurationPlugin { folder: folder.into() });
    }
    let exit = app.run();
    if exit.is_error() {
        bail!("the viewer stopped with an error (see above)");
    }
    Ok(())
}
