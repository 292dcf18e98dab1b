//! What the kiosk draws over the collection, touch first and readable from a few steps away:
//! the tour's captions and "Touch to explore"; for a visitor, large chips for the hotspots and
//! categories, a language button and the open image as a card; and the countdown's question.
//! Text and targets scale with the screen (body text 24 px and targets at least 48 px at 1080p).

use super::attract::{CAPTION_WIDTH, Glide, caption};
use super::{COUNTDOWN_SECONDS, Kiosk, KioskMode};
use crate::viewer::camera::{FlyTo, FrameAll};
use crate::viewer::loading::{Collection, ViewerAssets};
use crate::viewer::picking::{close_up, select};
use crate::viewer::rendering::LayoutTransition;
use crate::viewer::script;
use crate::viewer::ui::{Filters, Thumbnails, fly_to_group, fly_to_hotspot};
use crate::viewer::{Selection, ViewSettings, ViewerState};
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::egui::{self, Align2, Color32, FontId, RichText};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

/// Sizes in points at 1080 lines; the whole interface is zoomed with the window's height.
const BODY: f32 = 26.0;
const HEADING: f32 = 46.0;
const SMALL: f32 = 20.0;
const TARGET: f32 = 60.0;
/// Hotspot chips in the bar: the largest few.
const CHIPS: usize = 6;

pub struct OverlayPlugin;

impl Plugin for OverlayPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(OnEnter(KioskMode::Attract), release_thumbnails).add_systems(
            EguiPrimaryContextPass,
            (
                scale_with_screen,
                tour_caption.run_if(in_state(KioskMode::Attract)),
                visitor_controls.run_if(not(in_state(KioskMode::Attract))),
                still_exploring.run_if(in_state(KioskMode::Countdown)),
            )
                .chain()
                .run_if(in_state(ViewerState::Exploring)),
        );
    }
}

/// The visitor's thumbnails are let go at the reset: memory is where it was for the next one.
fn release_thumbnails(mut thumbnails: ResMut<Thumbnails>, egui: Option<EguiContexts>) {
    if let Some(mut egui) = egui {
        thumbnails.release(&mut egui);
    }
}

/// Text and targets grow with the screen: 1 at 1080 lines.
fn scale_with_screen(mut egui: EguiContexts, window: Single<&Window>, mut styled: Local<bool>) -> Result {
    let ctx = egui.ctx_mut()?;
    let zoom = (window.height() / 1080.0).max(0.4);
    if (ctx.zoom_factor() - zoom).abs() > 1e-3 || !*styled {
        *styled = true;
        ctx.set_zoom_factor(zoom);
        ctx.all_styles_mut(|style| {
            use egui::TextStyle::*;
            for (style_name, size) in [(Body, BODY), (Button, BODY), (Heading, HEADING), (Small, SMALL)] {
                style.text_styles.insert(style_name, FontId::proportional(size));
            }
            style.spacing.interact_size = egui::vec2(TARGET, TARGET);
            style.spacing.button_padding = egui::vec2(22.0, 12.0);
            style.spacing.item_spacing = egui::vec2(14.0, 12.0);
            style.interaction.tooltip_delay = f32::INFINITY; // nothing needs hover
        });
    }
    Ok(())
}

/// A chip to tap: a button, lit while it is on.
fn chip(ui: &mut egui::Ui, on: bool, text: &str) -> bool {
    ui.add(egui::Button::new(script::shown(text)).selected(on)).clicked()
}

fn card(opacity: f32) -> egui::Frame {
    egui::Frame::new()
        .fill(Color32::from_black_alpha((235.0 * opacity) as u8))
        .corner_radius(18.0)
        .inner_margin(28.0)
}

fn white(opacity: f32) -> Color32 {
    Color32::from_white_alpha((255.0 * opacity) as u8)
}

/// At a stop, its caption on a card at the left; always, a gently pulsing "Touch to explore".
fn tour_caption(
    mut egui: EguiContexts,
    time: Res<Time>,
    kiosk: Res<Kiosk>,
    glide: Res<Glide>,
    collection: Res<Collection>,
) -> Result {
    let ctx = egui.ctx_mut()?.clone();
    let now = time.elapsed_secs_f64();
    let width = ctx.content_rect().width();
    let languages = kiosk.tour().languages.len();
    // Unattended, the captions take turns in the tour's languages, one loop each.
    let language = glide.loops as usize % languages;
    let opacity = glide.caption_opacity(&kiosk, now);
    if let Some(stop) = glide.stop.filter(|_| opacity > 0.0) {
        let words = caption(&kiosk, &collection, stop, language);
        egui::Area::new("kiosk-caption".into())
            .anchor(Align2::LEFT_CENTER, [40.0, 0.0])
            .interactable(false)
            .show(&ctx, |ui| {
                card(opacity).show(ui, |ui| {
                    ui.set_width(width * CAPTION_WIDTH - 136.0);
                    ui.label(RichText::new(script::shown(&words.title)).heading().color(white(opacity)));
                    if !words.text.is_empty() {
                        ui.add_space(8.0);
                        ui.label(RichText::new(script::shown(&words.text)).color(white(opacity * 0.92)));
                    }
                    if !words.credit.is_empty() {
                        ui.add_space(14.0);
                        ui.label(
                            RichText::new(script::shown(&words.credit))
                                .small()
                                .italics()
                                .color(white(opacity * 0.7)),
                        );
                    }
                });
            });
    }
    let pulse = 0.6 + 0.4 * ((now * std::f64::consts::TAU / 4.0).sin() as f32 * 0.5 + 0.5);
    egui::Area::new("kiosk-prompt".into())
        .anchor(Align2::CENTER_BOTTOM, [0.0, -48.0])
        .interactable(false)
        .show(&ctx, |ui| {
            card(0.8).corner_radius(40.0).inner_margin(egui::Margin::symmetric(40, 18)).show(ui, |ui| {
                ui.label(RichText::new("Touch to explore").size(34.0).color(white(pulse)));
            });
        });
    Ok(())
}

/// For a visitor: "Start again", the largest hotspots and the categories as chips, the
/// language, and the open image's card.
/// What the collection looks like now.
#[derive(SystemParam)]
struct Shown<'w> {
    collection: Res<'w, Collection>,
    assets: ViewerAssets<'w>,
    transition: Res<'w, LayoutTransition>,
    settings: Res<'w, ViewSettings>,
}

/// What a visitor's touches change.
#[derive(SystemParam)]
struct Controls<'w> {
    selection: ResMut<'w, Selection>,
    filters: ResMut<'w, Filters>,
    thumbnails: ResMut<'w, Thumbnails>,
    fly: MessageWriter<'w, FlyTo>,
    frame: MessageWriter<'w, FrameAll>,
}

fn visitor_controls(
    mut egui: EguiContexts,
    mut kiosk: ResMut<Kiosk>,
    shown: Shown,
    controls: Controls,
    mut categories: Local<Option<Vec<String>>>,
) -> Result {
    let Shown { collection, assets, transition, settings } = shown;
    let Controls { mut selection, mut filters, mut thumbnails, mut fly, mut frame } = controls;
    let ctx = egui.ctx_mut()?.clone();
    let manifest = &collection.bundle.manifest;
    let categories = categories.get_or_insert_with(|| {
        let mut all: Vec<String> =
            manifest.images.iter().filter_map(|i| i.metadata.category.clone()).collect();
        all.sort();
        all.dedup();
        all
    });
    // A handful of categories are chips in the bar; more open a panel of chips above it.
    let inline = categories.len() <= 8;
    let width = ctx.content_rect().width();
    // Along the bottom, left of where the open image's card is.
    let card_width = width * 0.32;
    let bar_width = if selection.selected.is_some() { width - card_width - 120.0 } else { width - 80.0 };
    let mut chosen = None;
    let bar =
        egui::Area::new("kiosk-bar".into()).anchor(Align2::LEFT_BOTTOM, [28.0, -28.0]).show(&ctx, |ui| {
            card(0.85).inner_margin(16.0).show(ui, |ui| {
                ui.set_max_width(bar_width);
                ui.horizontal_wrapped(|ui| {
                    if ui.button(RichText::new("Start again").strong()).clicked() {
                        filters.set_if_neq(Filters::default());
                        selection.selected = None;
                        frame.write(FrameAll);
                    }
                    let mut largest: Vec<usize> = (0..manifest.clusters.len()).collect();
                    largest.sort_by_key(|&c| std::cmp::Reverse(manifest.clusters[c].members.len()));
                    for c in largest.into_iter().take(CHIPS) {
                        let cluster = &manifest.clusters[c];
                        if ui.button(script::shown(&cluster.name)).clicked() {
                            fly.write(fly_to_hotspot(&collection, &transition, cluster, settings.image_size));
                        }
                    }
                    if inline {
                        for category in categories.iter() {
                            let on = filters.category.as_ref() == Some(category);
                            if chip(ui, on, category) {
                                chosen = Some((!on).then(|| category.clone()));
                            }
                        }
                    } else if !categories.is_empty() {
                        let label = filters
                            .category
                            .as_ref()
                            .map_or("Categories".to_string(), |c| format!("Category: {c}"));
                        if chip(ui, kiosk.categories_open, &label) {
                            kiosk.categories_open = !kiosk.categories_open;
                        }
                    }
                    let languages = &kiosk.tour().languages;
                    if languages.len() > 1 {
                        let next = (kiosk.language + 1) % languages.len();
                        let label = languages[next].to_uppercase();
                        if ui.button(label).clicked() {
                            kiosk.language = next;
                        }
                    }
                });
            });
        });
    if kiosk.categories_open && !inline {
        let above = bar.response.rect.left_top() + egui::vec2(0.0, -14.0);
        egui::Area::new("kiosk-categories".into()).fixed_pos(above).pivot(Align2::LEFT_BOTTOM).show(
            &ctx,
            |ui| {
                card(0.92).inner_margin(16.0).show(ui, |ui| {
                    ui.set_max_width(bar_width);
                    egui::ScrollArea::vertical().max_height(ctx.content_rect().height() * 0.5).show(
                        ui,
                        |ui| {
                            ui.horizontal_wrapped(|ui| {
                                if chip(ui, filters.category.is_none(), "All") {
                                    chosen = Some(None);
                                }
                                for category in categories.iter() {
                                    let on = filters.category.as_ref() == Some(category);
                                    if chip(ui, on, category) {
                                        chosen = Some(Some(category.clone()));
                                    }
                                }
                            });
                        },
                    );
                });
            },
        );
    }
    // A category chosen: the others dim, and the camera goes to its images.
    if let Some(category) = chosen {
        kiosk.categories_open = false;
        if let Some(name) = &category {
            let members: Vec<usize> = (0..manifest.images.len())
                .filter(|&i| manifest.images[i].metadata.category.as_ref() == Some(name))
                .collect();
            fly.write(fly_to_group(&collection, &transition, &members, settings.image_size));
        } else {
            frame.write(FrameAll);
        }
        filters.category = category;
    }
    let Some(image) = selection.selected else { return Ok(()) };
    let record = &manifest.images[image as usize];
    let height = ctx.content_rect().height();
    let mut close = false;
    egui::Area::new("kiosk-detail".into()).anchor(Align2::RIGHT_TOP, [-32.0, 32.0]).show(&ctx, |ui| {
        card(0.9).show(ui, |ui| {
            ui.set_width(card_width - 56.0);
            let side = card_width - 56.0;
            let aspect = record.height as f32 / record.width.max(1) as f32;
            // The picture takes what the text and the similar images leave of the screen's height.
            let tall = (side * aspect).min(height * 0.42);
            let size = egui::vec2(tall / aspect.max(0.01), tall).min(egui::vec2(side, tall));
            match thumbnails.get(image, &collection, &assets, &mut egui) {
                Some(texture) => ui.image(egui::load::SizedTexture::new(texture, size)),
                None => ui.add_sized(size, egui::Spinner::new()),
            };
            let m = &record.metadata;
            let title = m.label.clone().unwrap_or_else(|| record.filename.clone());
            ui.label(RichText::new(script::shown(&title)).heading().color(Color32::WHITE));
            for line in [m.description.clone(), m.category.clone(), m.year.map(|y| y.to_string())]
                .into_iter()
                .flatten()
            {
                ui.label(RichText::new(script::shown(&line)).color(white(0.9)));
            }
            let similar = collection.bundle.similar(image);
            if !similar.is_empty() {
                ui.add_space(8.0);
                ui.label(RichText::new("Looks like").small().color(white(0.7)));
                ui.horizontal_wrapped(|ui| {
                    for &other in similar.iter().take(6) {
                        let clicked = match thumbnails.get(other, &collection, &assets, &mut egui) {
                            Some(texture) => ui
                                .add(egui::Button::image(egui::load::SizedTexture::new(
                                    texture,
                                    [96.0, 96.0],
                                )))
                                .clicked(),
                            None => ui.add_sized([96.0, 96.0], egui::Spinner::new()).clicked(),
                        };
                        if clicked {
                            select(&mut selection, other, &collection);
                            fly.write(close_up(&transition, other, settings.image_size));
                        }
                    }
                });
            }
            ui.add_space(8.0);
            close = ui
                .add(egui::Button::new(RichText::new("Close").strong()).min_size(egui::vec2(160.0, TARGET)))
                .clicked();
        });
    });
    if close {
        selection.selected = None;
    }
    Ok(())
}

/// Nobody has touched the screen for a while: ask, and count down to the reset.
fn still_exploring(mut egui: EguiContexts, time: Res<Time>, kiosk: Res<Kiosk>) -> Result {
    let ctx = egui.ctx_mut()?.clone();
    let left = (COUNTDOWN_SECONDS as f64 - (time.elapsed_secs_f64() - kiosk.countdown_since)).ceil().max(0.0);
    let screen = ctx.content_rect();
    ctx.layer_painter(egui::LayerId::new(egui::Order::Foreground, "kiosk-dim".into())).rect_filled(
        screen,
        0.0,
        Color32::from_black_alpha(140),
    );
    egui::Area::new("kiosk-countdown".into())
        .order(egui::Order::Tooltip)
        .anchor(Align2::CENTER_CENTER, [0.0, 0.0])
        .show(&ctx, |ui| {
            card(0.95).inner_margin(48.0).show(ui, |ui| {
                ui.vertical_centered(|ui| {
                    ui.label(RichText::new("Are you still exploring?").heading().color(Color32::WHITE));
                    ui.add_space(10.0);
                    ui.label(
                        RichText::new(format!("Starting again in {left:.0} seconds")).color(white(0.85)),
                    );
                    ui.add_space(18.0);
                    // Any touch answers; the button says so.
                    let _ = ui.add(
                        egui::Button::new(RichText::new("Keep exploring").strong())
                            .min_size(egui::vec2(280.0, TARGET)),
                    );
                });
            });
        });
    Ok(())
}
