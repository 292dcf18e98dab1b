//! The `pixfly` command: a thin layer over `pixfly-core`.

mod commands;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "pixfly", version, about = "Explore a large image collection by what the images look like")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Turn folders, files or globs of images into a bundle for the viewer.
    Build(commands::build::BuildArgs),
    /// Validate a bundle and print what it holds.
    Info(commands::info::InfoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    progress::init_logging();
    let result = match cli.command {
        Command::Build(args) => commands::build::run(args),
        Command::Info(args) => commands::info::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
