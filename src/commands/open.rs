//! `pixfly open FOLDER`: the window opens at once and the collection assembles in it.

use super::build::PipelineArgs;
use super::view::parse_size;
use crate::assembly::{AssemblyPlugin, Worker};
use crate::viewer::{self, ViewOptions, poster::Poster};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct OpenArgs {
    /// Folders (walked recursively), image files or glob patterns such as 'photos/**/*.jpg'.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The bundle folder to write [default: one for these inputs in the user's data folder,
    /// e.g. ~/.local/share/pixfly/bundles/NAME-HASH]. Opening the same inputs again resumes.
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// Window (and picture) size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x800", value_parser = parse_size)]
    size: (u32, u32),
    /// Render the collection to this PNG once it has assembled (or see --at), write the
    /// bundle, and exit: for scripts, tests and posters.
    #[arg(long, value_name = "FILE.png")]
    screenshot: Option<PathBuf>,
    /// With --screenshot: take the picture the moment this many images have arrived, e.g.
    /// images=200 (the assembly then goes on to the end before the app exits).
    #[arg(long, value_name = "images=N", value_parser = parse_at, requires = "screenshot")]
    at: Option<usize>,
    /// With --screenshot: write where each image was drawn, and how far the assembly was (JSON).
    #[arg(long, value_name = "FILE.json", requires = "screenshot")]
    report: Option<PathBuf>,
    /// With --screenshot: keep the panels (the progress panel too) in the picture.
    #[arg(long, requires = "screenshot")]
    panels: bool,
}

fn parse_at(text: &str) -> Result<usize, String> {
    text.strip_prefix("images=")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{text:?}: expected images=N, e.g. images=200"))
}

pub fn run(args: OpenArgs) -> anyhow::Result<()> {
    let output = match args.output {
        Some(output) => output,
        None => default_bundle(&args.inputs)?,
    };
    let output =
        std::path::absolute(&output).with_context(|| format!("bad bundle path {}", output.display()))?;
    let Some(folder) = output.to_str().map(String::from) else {
        bail!("{}: the viewer needs a UTF-8 path", output.display())
    };
    println!("bundle     {}", output.display());
    let options = args.pipeline.options(args.inputs, output);
    let unattended = args.screenshot.is_some();
    let poster = args.screenshot.map(|path| Poster {
        path,
        frames: 3,
        switch_to: None,
        click: None,
        close_up: None,
        keys: Vec::new(),
        panels: args.panels,
        report: args.report,
    });
    let view = ViewOptions { bundle: folder, window_size: args.size, poster, ..ViewOptions::default() };
    let mut app = viewer::app(view, false);
    app.add_plugins(AssemblyPlugin { options, picture_at: args.at, unattended });
    let exit = app.run();
    // The window closed, perhaps part-way: let the images in progress finish into the cache.
    if let Some(mut worker) = app.world_mut().remove_resource::<Worker>() {
        worker.stop();
    }
    if exit.is_error() {
        bail!("the app stopped with an error (see above)");
    }
    Ok(())
}

/// Where the bundle of `inputs` goes when no `-o` is given: a folder of the user's data
/// directory named after the first input and a hash of all of them (never inside the inputs).
fn default_bundle(inputs: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/share")))
        .context("no data folder ($XDG_DATA_HOME or $HOME) to keep the bundle in: give one with -o")?;
    let mut key = blake3::Hasher::new();
    let mut name = None;
    for input in inputs {
        let path = std::path::absolute(input).unwrap_or_else(|_| input.clone());
        key.update(path.as_os_str().as_encoded_bytes());
        key.update(b"\0");
        name = name.or_else(|| path.file_name().map(|n| n.to_string_lossy().into_owned()));
    }
    let name: String = name
        .unwrap_or_else(|| "collection".into())
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    Ok(data.join("pixfly/bundles").join(format!("{name}-{}", &key.finalize().to_hex()[..12])))
}
