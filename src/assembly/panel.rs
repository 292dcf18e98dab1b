//! The progress panel: each stage with counts, speed and time left, the files skipped and why,
//! where the bundle goes, and a button to stop.

use super::worker::{Report, Reported, Worker};
use super::{AssemblySystems, LayOutAfresh, Live, Picture};
use crate::viewer::ViewSettings;
use bevy::prelude::*;
use bevy_egui::egui::{self, Color32, RichText};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};
use pixfly_core::bundle::ImageRecord;
use std::sync::atomic::Ordering;

pub struct ProgressPanelPlugin;

impl Plugin for ProgressPanelPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(PreUpdate, track_progress.in_set(AssemblySystems::Integrate))
            .add_systems(EguiPrimaryContextPass, show_panel);
    }
}

/// How far the assembly is: updated by one system, read by the panel and the picture's report.
#[derive(Resource, Default)]
pub struct AssemblyProgress {
    /// Seconds since the window opened when the first file was read, and when all were.
    first_read: Option<f32>,
    found: usize,
    read: usize,
    embedded: usize,
    network: bool,
    no_network: Option<String>,
    skipped: Vec<(String, String)>,
    /// The build's current stage: name, units done, units in all.
    stage: (String, u64, u64),
    /// How it ended: a summary, or why it failed.
    outcome: Option<Result<String, String>>,
    /// Of the bundle's images, how many were decoded in this run and how many came from the cache.
    decoded: Option<(usize, usize)>,
    elapsed: f32,
    /// Wall time of each frame drawn straight after another while the collection was
    /// assembling (for the benchmark).
    frame_seconds: Vec<f32>,
}

impl AssemblyProgress {
    /// What the report of a picture says about the assembly when the images named were shown
    /// (in arrival order: their ids here).
    pub fn report(&self, shown: &[ImageRecord]) -> serde_json::Value {
        serde_json::json!({
            "found": self.found,
            "shown": shown.len(),
            "filenames": shown.iter().map(|image| image.filename.as_str()).collect::<Vec<_>>(),
            "decoded": self.decoded.map(|d| d.0),
            "from_cache": self.decoded.map(|d| d.1),
            "read": self.read,
            "embedded": self.embedded,
            "skipped": self.skipped.len(),
            "stage": self.stage.0,
            "complete": matches!(self.outcome, Some(Ok(_))),
            "frame_seconds_while_assembling": self.frame_seconds,
        })
    }

    fn images_per_second(&self) -> Option<f32> {
        let started = self.first_read?;
        let seconds = self.elapsed - started;
        (seconds > 0.5 && self.read > 0).then(|| self.read as f32 / seconds)
    }
}

fn track_progress(
    mut reported: MessageReader<Reported>,
    mut progress: ResMut<AssemblyProgress>,
    worker: Res<Worker>,
    picture: Res<Picture>,
    time: Res<Time<Real>>,
    pacing: Res<super::pacing::Pacing>,
    mut exit: MessageWriter<AppExit>,
) {
    progress.elapsed = time.elapsed_secs();
    // Only frames that came straight after the one before: the others' time is mostly waiting.
    if let Some(seconds) = pacing.measured
        && progress.outcome.is_none()
        && progress.first_read.is_some()
        && progress.frame_seconds.len() < 100_000
    {
        progress.frame_seconds.push(seconds);
    }
    for Reported(report) in reported.read() {
        match &**report {
            Report::Found(count) => progress.found = *count,
            Report::Network { .. } => progress.network = true,
            Report::NoNetwork(reason) => {
                warn!("{reason}: the images assemble without vectors, on the grid");
                progress.no_network = Some(reason.clone());
            }
            Report::Read { .. } => {
                progress.read += 1;
                progress.first_read.get_or_insert(time.elapsed_secs());
            }
            Report::Skipped { filename, reason } => progress.skipped.push((filename.clone(), reason.clone())),
            Report::Embedded { .. } => progress.embedded += 1,
            Report::Epoch { .. } => {}
            Report::Finished(Ok(built)) => {
                let (report, _) = &**built;
                let mut summary = format!(
                    "{} images in the bundle ({} decoded, {} from the cache), {} skipped, {} duplicates",
                    report.images,
                    report.decoded,
                    report.from_cache,
                    report.skipped.len(),
                    report.duplicates.len()
                );
                let placement = report.placement;
                if placement.placed > 0 {
                    summary += &format!("; {} new placed among the others", placement.placed);
                }
                if placement.transformed > 0 {
                    summary += &format!(" ({} since the last full layout)", placement.transformed);
                }
                info!("assembled: {summary}; bundle {}", worker.output.display());
                progress.decoded = Some((report.decoded, report.from_cache));
                progress.outcome = Some(Ok(summary));
            }
            Report::Finished(Err(reason)) => {
                error!("the collection could not be assembled: {reason}");
                progress.outcome = Some(Err(reason.clone()));
                if picture.unattended {
                    eprintln!("error: {reason}");
                    exit.write(AppExit::error());
                }
            }
        }
    }
    let (name, total) = worker.stage.lock().expect("stage").clone();
    progress.stage = (name, worker.done.load(Ordering::Relaxed), total);
}

fn show_panel(
    mut egui: EguiContexts,
    progress: Res<AssemblyProgress>,
    live: Res<Live>,
    worker: Res<Worker>,
    settings: Res<ViewSettings>,
    mut again: MessageWriter<LayOutAfresh>,
) -> Result {
    if !settings.show_ui {
        return Ok(());
    }
    let ctx = egui.ctx_mut()?;
    let running = progress.outcome.is_none();
    let title = if running { "Assembling the collection" } else { "The collection" };
    egui::Window::new(title)
        .anchor(egui::Align2::RIGHT_BOTTOM, [-12.0, -12.0])
        .resizable(false)
        .default_width(320.0)
        .show(ctx, |ui| {
            let found = progress.found.max(1);
            ui.label(format!("Found: {} files", progress.found));
            let speed = progress.images_per_second();
            let mut read = format!("Read: {} of {}", progress.read + progress.skipped.len(), progress.found);
            if let (Some(speed), true) = (speed, running) {
                let left =
                    progress.found.saturating_sub(progress.read + progress.skipped.len()) as f32 / speed;
                read += &format!(" · {speed:.0} images/s · {left:.0} s left");
            }
            ui.add(
                egui::ProgressBar::new((progress.read + progress.skipped.len()) as f32 / found as f32)
                    .text(read),
            );
            if progress.network {
                let embedded = format!("Seen by the network: {} of {}", progress.embedded, progress.found);
                ui.add(egui::ProgressBar::new(progress.embedded as f32 / found as f32).text(embedded));
            }
            if let Some(reason) = &progress.no_network {
                ui.colored_label(
                    Color32::from_rgb(255, 190, 120),
                    format!("No network, so no similarity layouts: {reason}"),
                );
            }
            let (stage, done, total) = &progress.stage;
            if running && !stage.starts_with("Reading") && *total > 0 {
                let text = format!("{stage}: {done} of {total}");
                ui.add(egui::ProgressBar::new(*done as f32 / *total as f32).text(text));
            }
            ui.label(format!("Shown: {} images", live.shown));
            if !progress.skipped.is_empty() {
                egui::CollapsingHeader::new(format!("Skipped: {}", progress.skipped.len())).show(ui, |ui| {
                    egui::ScrollArea::vertical().max_height(160.0).show(ui, |ui| {
                        for (filename, reason) in &progress.skipped {
                            ui.label(RichText::new(format!("{filename}: {reason}")).small());
                        }
                    });
                });
            }
            ui.label(RichText::new(format!("Bundle: {}", worker.output.display())).small());
            match &progress.outcome {
                None => {
                    if worker.cancel.load(Ordering::Relaxed) {
                        ui.label("Stopping after the images in progress…");
                    } else if ui
                        .button("Stop")
                        .on_hover_text("Finished images are kept: open the folder again to go on")
                        .clicked()
                    {
                        worker.cancel.store(true, Ordering::Relaxed);
                    }
                }
                Some(Ok(summary)) => {
                    ui.label(
                        RichText::new(format!("Complete: {summary}")).color(Color32::from_rgb(150, 220, 150)),
                    );
                    let afresh = ui.button("Lay out afresh").on_hover_text(
                        "UMAP on every image again: images added since the last full layout were placed among the others",
                    );
                    if afresh.clicked() {
                        again.write(LayOutAfresh);
                    }
                }
                Some(Err(reason)) => {
                    ui.label(RichText::new(reason).color(Color32::from_rgb(255, 140, 120)));
                }
            }
        });
    Ok(())
}
