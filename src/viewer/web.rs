//! In the browser, the page's URL holds the view: `?bundle=URL&layout=NAME&image=ID` (and
//! `&search=TEXT`, and `&kiosk=1&idle=SECONDS` for kiosk mode, read at start only). It is read at start and kept up to date, so a link (or a
//! reload after a lost WebGL context or WebGPU device) shows the same thing. The page's root
//! element also carries the viewer's state (`data-pixfly-state`, `data-pixfly-atlases`,
//! `data-pixfly-atlas-error`) for scripts and tests, and a failure is shown as text on the page.

use super::loading::{Collection, LoadFailure, ViewerAssets};
use super::rendering::LayoutTransition;
use super::{Selection, ViewOptions, ViewerState};
use bevy::prelude::*;
use web_sys::UrlSearchParams;

/// Where the page keeps its bundle unless the URL names another.
const DEFAULT_BUNDLE: &str = "bundle";

/// What the page's URL asks for.
pub struct PageOptions {
    pub view: ViewOptions,
    /// `?kiosk=1`: kiosk mode, with `&idle=SECONDS` before the countdown (90 by default).
    pub kiosk_idle: Option<f32>,
}

/// The viewer's options from the page's URL.
pub fn options_from_page() -> PageOptions {
    let params = page_params();
    let get = |name: &str| params.as_ref().and_then(|p| p.get(name)).filter(|v| !v.is_empty());
    let kiosk = get("kiosk").is_some_and(|v| v != "0");
    let idle = get("idle").and_then(|s| s.parse::<f32>().ok()).filter(|s| (5.0..=86_400.0).contains(s));
    let view = ViewOptions {
        bundle: get("bundle").unwrap_or_else(|| DEFAULT_BUNDLE.to_string()),
        window_size: (1280, 800),
        layout: get("layout"),
        image: get("image").and_then(|id| id.parse().ok()),
        search: get("search"),
        tour: kiosk,
        ..ViewOptions::default()
    };
    PageOptions { view, kiosk_idle: kiosk.then_some(idle.unwrap_or(90.0)) }
}

fn page_params() -> Option<UrlSearchParams> {
    let search = web_sys::window()?.location().search().ok()?;
    UrlSearchParams::new_with_str(&search).ok()
}

pub struct PagePlugin;

impl Plugin for PagePlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, write_view_to_url.run_if(in_state(ViewerState::Exploring)))
            .add_systems(Update, (write_state_to_page, write_atlases_to_page).chain())
            .add_systems(OnEnter(ViewerState::Failed), show_failure_on_page);
    }
}

/// Replace (not push: the back button should leave the page) the URL's layout and image.
fn write_view_to_url(
    collection: Res<Collection>,
    transition: Res<LayoutTransition>,
    selection: Res<Selection>,
    mut written: Local<Option<(usize, Option<u32>)>>,
) {
    let view = (transition.layout, selection.selected);
    if *written == Some(view) {
        return;
    }
    *written = Some(view);
    let (Some(window), Some(params)) = (web_sys::window(), page_params()) else { return };
    params.set("layout", &collection.bundle.manifest.layouts[view.0].name);
    match view.1 {
        Some(image) => params.set("image", &image.to_string()),
        None => params.delete("image"),
    }
    let url = format!("?{}", String::from(params.to_string()));
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

pub(crate) fn root_element() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.document_element()
}

fn write_state_to_page(state: Res<State<ViewerState>>) {
    if state.is_changed()
        && let Some(root) = root_element()
    {
        let name = match state.get() {
            ViewerState::Loading => "loading",
            ViewerState::Exploring => "exploring",
            ViewerState::Failed => "failed",
        };
        let _ = root.set_attribute("data-pixfly-state", name);
    }
}

/// `loaded/total`, once per change; or why an atlas will never load (`data-pixfly-atlas-error`),
/// so a script waiting for every atlas stops waiting.
fn write_atlases_to_page(
    collection: Option<Res<Collection>>,
    assets: ViewerAssets,
    mut written: Local<Option<Result<usize, String>>>,
) {
    let Some(collection) = collection else { return };
    let loaded = assets.atlases_loaded(&collection);
    if written.as_ref() == Some(&loaded) {
        return;
    }
    let Some(root) = root_element() else { return };
    let _ = match &loaded {
        Ok(count) => {
            root.set_attribute("data-pixfly-atlases", &format!("{count}/{}", collection.atlases.len()))
        }
        Err(message) => root.set_attribute("data-pixfly-atlas-error", message),
    };
    *written = Some(loaded);
}

/// The page's status box, which the viewer covered, says what went wrong (selectable text).
fn show_failure_on_page(failure: Option<Res<LoadFailure>>) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let message = failure.map_or_else(|| "unknown error".to_string(), |f| f.0.clone());
    if let (Some(status), Some(text)) =
        (document.get_element_by_id("status"), document.get_element_by_id("message"))
    {
        text.set_text_content(Some(&format!("This collection cannot be shown: {message}")));
        let _ = text.set_attribute("class", "error");
        let _ = status.remove_attribute("hidden");
    }
    if let Some(progress) = document.get_element_by_id("progress") {
        let _ = progress.set_attribute("hidden", "");
    }
}
