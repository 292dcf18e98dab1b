//! The `pixfly` command: a thin layer over `pixfly-core`.

#[cfg(not(target_arch = "wasm32"))]
mod assembly;
#[cfg(not(target_arch = "wasm32"))]
mod commands;
mod kiosk;
#[cfg(not(target_arch = "wasm32"))]
mod progress;
mod viewer;

#[cfg(not(target_arch = "wasm32"))]
use clap::{Parser, Subcommand};
#[cfg(not(target_arch = "wasm32"))]
use std::process::ExitCode;

#[cfg(not(target_arch = "wasm32"))]
#[derive(Parser)]
#[command(name = "pixfly", version, about = "Explore a large image collection by what the images look like")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[cfg(not(target_arch = "wasm32"))]
#[derive(Subcommand)]
enum Command {
    /// Turn folders, files or globs of images into a bundle for the viewer.
    Build(commands::build::BuildArgs),
    /// Validate a bundle and print what it holds.
    Info(commands::info::InfoArgs),
    /// Open a folder of images in a window and watch it assemble (writing its bundle as it goes).
    Open(commands::open::OpenArgs),
    /// Fly through a bundle in a window (or render it to a picture with --screenshot).
    View(commands::view::ViewArgs),
    /// Run a bundle full screen on an exhibition kiosk: attract tour, idle reset, locked down.
    Kiosk(commands::kiosk::KioskArgs),
    /// Write a static website (the web viewer and the bundle) for any static host.
    ExportWeb(commands::export_web::ExportWebArgs),
    /// Serve a website made by export-web on 127.0.0.1, to preview it in a browser.
    Serve(commands::serve::ServeArgs),
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> ExitCode {
    let cli = Cli::parse();
    progress::init_logging();
    let result = match cli.command {
        Command::Build(args) => commands::build::run(args),
        Command::Info(args) => commands::info::run(args),
        Command::Open(args) => commands::open::run(args),
        Command::View(args) => commands::view::run(args),
        Command::Kiosk(args) => commands::kiosk::run(args),
        Command::ExportWeb(args) => commands::export_web::run(args),
        Command::Serve(args) => commands::serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// In the browser: the viewer on the bundle the page's URL names (or the one beside it), as a
/// kiosk with `?kiosk=1`.
#[cfg(target_arch = "wasm32")]
fn main() {
    let page = viewer::web::options_from_page();
    let mut app = viewer::app(page.view, true);
    if let Some(idle_seconds) = page.kiosk_idle {
        app.add_plugins(kiosk::KioskPlugin { tour: None, idle_seconds });
    }
    app.run();
}
