//! The viewer: a Bevy app that flies through a bundle. One plugin per concern; the bundle is
//! the only thing it reads, through the same reader as the command line.

// Bevy systems receive what they use as parameters; many is normal and clearer than bundling.
#![allow(clippy::too_many_arguments)]

pub mod camera;
#[cfg(not(target_arch = "wasm32"))]
pub mod curation;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod load_fuzz;
pub mod loading;
pub mod lod;
pub mod picking;
pub mod poster;
pub mod rendering;
pub mod script;
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod web;

use bevy::app::{TaskPoolOptions, TaskPoolThreadAssignmentPolicy};
use bevy::asset::AssetMetaCheck;
use bevy::asset::io::AssetSourceBuilder;
use bevy::prelude::*;
use bevy::render::RenderPlugin;
use bevy::window::{ExitCondition, WindowMode, WindowResolution};

/// The app's phases: waiting for the bundle, showing it, or explaining why it can't.
#[derive(States, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ViewerState {
    #[default]
    Loading,
    Exploring,
    Failed,
}

/// What the visitor can adjust.
#[derive(Resource, Clone, PartialEq)]
pub struct ViewSettings {
    /// Side of an image's cell in world units (grid spacing is about 2).
    pub image_size: f32,
    pub background: Color,
    pub show_fps: bool,
    pub show_help: bool,
    /// Hotspot names written over the scene.
    pub show_labels: bool,
    /// Side panels; off for posters.
    pub show_ui: bool,
}

impl ViewSettings {
    /// Width of the collection panel on the left, in logical pixels, when it opens.
    pub const LEFT_PANEL_WIDTH: f32 = 270.0;

    /// How much of the window's left side the panels cover: views are framed beside it.
    pub fn covered_left(&self) -> f32 {
        if self.show_ui { Self::LEFT_PANEL_WIDTH } else { 0.0 }
    }
}

impl Default for ViewSettings {
    fn default() -> Self {
        ViewSettings {
            image_size: 1.8,
            background: Color::srgb(0.075, 0.08, 0.1),
            show_fps: false,
            show_help: false,
            show_labels: true,
            show_ui: true,
        }
    }
}

/// The image under the pointer and the one whose details are open.
#[derive(Resource, Default, Clone, PartialEq)]
pub struct Selection {
    pub hovered: Option<u32>,
    pub selected: Option<u32>,
}

/// Whether the curation window (tour and hotspot names) is open; `None` where there is none
/// (the web, posters, the kiosk).
#[derive(Resource, Default)]
pub struct CurationOpen(pub Option<bool>);

/// Set in kiosk mode: the visitor cannot open the panels, the help or the settings.
#[derive(Resource)]
pub struct Locked;

/// How to run the viewer.
pub struct ViewOptions {
    /// Where the bundle is: a folder (desktop) or a URL (web).
    pub bundle: String,
    pub window_size: (u32, u32),
    /// Layout to show first, by name; the bundle's first when `None`.
    pub layout: Option<String>,
    /// Image to open first (selected and flown up to), by id.
    pub image: Option<u32>,
    /// Search to open with (as if typed into the search box).
    pub search: Option<String>,
    /// Render a picture and exit instead of opening an interactive window.
    pub poster: Option<poster::Poster>,
    /// Full screen (borderless) on this monitor instead of a window of `window_size`.
    pub fullscreen: Option<bevy::window::MonitorSelection>,
    /// The window's close button does nothing: the app decides when to quit (kiosk mode).
    pub locked: bool,
    /// Pictures are taken without a person there: compile every shader before the first frame.
    pub pictures: bool,
    /// Read the bundle's tour with it (the web kiosk).
    pub tour: bool,
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions {
            bundle: String::new(),
            window_size: (1280, 800),
            layout: None,
            image: None,
            search: None,
            poster: None,
            fullscreen: None,
            locked: false,
            pictures: false,
            tour: false,
        }
    }
}

/// Where a collection that grows while it is assembled is replaced (`Grow`, by `pixfly open`)
/// and where the viewer catches up with it (`Follow`): before anything in `Update` reads it.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum CollectionSystems {
    Grow,
    Follow,
}

/// The viewer's app. With `load_bundle` it shows the bundle `options.bundle` names; without,
/// whatever provides the [`loading::Collection`] (the bundle folder still serves thumbnails).
pub fn app(options: ViewOptions, load_bundle: bool) -> App {
    let mut app = App::new();
    // The bundle is its own asset source, so the same loader reads a folder or a web server.
    app.register_asset_source(
        loading::BUNDLE_SOURCE,
        AssetSourceBuilder::platform_default(&options.bundle, None),
    );
    let (width, height) = options.window_size;
    let render = RenderPlugin {
        // A poster must not be taken while shaders are still compiling in the background.
        synchronous_pipeline_compilation: options.poster.is_some() || options.pictures,
        ..default()
    };
    // Bundles have no `.meta` files beside their images: don't ask the web server for them.
    let asset = AssetPlugin { meta_check: AssetMetaCheck::Never, ..default() };
    // Asset loaders run in the IO pool, one thread on two cores by default: the atlases' decoding
    // and mipmaps are most of the work before a big collection's first picture, so give it half.
    let io = TaskPoolThreadAssignmentPolicy {
        min_threads: 2,
        max_threads: 8,
        percent: 0.5,
        on_thread_spawn: None,
        on_thread_destroy: None,
    };
    let tasks = TaskPoolPlugin { task_pool_options: TaskPoolOptions { io, ..default() } };
    // `pixfly`'s command line has set up logging already: Bevy's LogPlugin would only say so,
    // as an error, on every start. On the web it is the logger.
    #[cfg(not(target_arch = "wasm32"))]
    let plugins = DefaultPlugins.build().disable::<bevy::log::LogPlugin>();
    #[cfg(target_arch = "wasm32")]
    let plugins = DefaultPlugins.build();
    // On the primary monitor first; `fill_the_monitor` moves it to the chosen one.
    let primary = WindowMode::BorderlessFullscreen(bevy::window::MonitorSelection::Primary);
    let mode = options.fullscreen.map_or(WindowMode::Windowed, |_| primary);
    let window = WindowPlugin {
        primary_window: Some(Window {
            title: "pixfly".into(),
            resolution: WindowResolution::new(width, height),
            mode,
            decorations: !options.locked,
            // On the web: the page's canvas, sized by the page.
            canvas: Some("#pixfly".into()),
            fit_canvas_to_parent: true,
            ..default()
        }),
        close_when_requested: !options.locked,
        exit_condition: if options.locked { ExitCondition::DontExit } else { ExitCondition::OnAllClosed },
        ..default()
    };
    app.add_plugins(plugins.set(render).set(asset).set(tasks).set(window))
        .add_plugins(bevy_egui::EguiPlugin::default())
        .init_state::<ViewerState>()
        .init_resource::<ViewSettings>()
        .init_resource::<Selection>()
        .init_resource::<CurationOpen>()
        .insert_resource(ClearColor(ViewSettings::default().background))
        .insert_resource(loading::LayoutRequest(options.layout))
        .insert_resource(loading::ImageRequest(options.image))
        .insert_resource(ui::Filters::searching(options.search.unwrap_or_default()))
        .configure_sets(PreUpdate, (CollectionSystems::Grow, CollectionSystems::Follow).chain())
        .add_plugins((
            loading::LoadingPlugin { load_bundle, tour: options.tour },
            rendering::RenderingPlugin,
            lod::LevelOfDetailPlugin,
            camera::CameraPlugin,
            picking::PickingPlugin,
            ui::UiPlugin,
        ))
        .add_systems(Update, apply_background);
    if let Some(monitor) = options.fullscreen {
        app.insert_resource(FullScreenOn(monitor)).add_systems(Update, fill_the_monitor);
    }
    #[cfg(target_arch = "wasm32")]
    app.add_plugins(web::PagePlugin);
    if let Some(poster) = options.poster {
        app.add_plugins(poster::PosterPlugin(poster));
    }
    app
}

/// The monitor a full-screen window is to fill.
#[derive(Resource)]
struct FullScreenOn(bevy::window::MonitorSelection);

/// The monitor to fill, chosen here rather than by winit: `MonitorSelection::Index` counts in
/// an order the system does not promise (two monitors under Xorg came out swapped), while a
/// technician counts monitors from the left. Without a window manager (X started bare, as a
/// kiosk may be) a request for full screen also goes unanswered and the window stays at its
/// first size: the window asks for the monitor's place and size itself. With a window manager
/// that changes nothing.
fn fill_the_monitor(
    on: Res<FullScreenOn>,
    monitors: Query<(Entity, &bevy::window::Monitor, Has<bevy::window::PrimaryMonitor>)>,
    mut window: Single<&mut Window, With<bevy::window::PrimaryWindow>>,
    mut done: Local<bool>,
) {
    use bevy::window::{MonitorSelection, WindowPosition};
    if *done || monitors.is_empty() {
        return;
    }
    // Left to right, then top to bottom.
    let mut listed: Vec<_> = monitors.iter().collect();
    listed.sort_by_key(|(_, m, _)| (m.physical_position.x, m.physical_position.y));
    let primary = listed.iter().find(|(.., primary)| *primary).or(listed.first());
    let chosen = match on.0 {
        MonitorSelection::Index(n) => listed.get(n).or_else(|| {
            warn!(
                "there is no monitor {n} (counting from 0, {} found): full screen on the primary one",
                listed.len()
            );
            primary
        }),
        _ => primary,
    };
    *done = true;
    let Some(&(entity, monitor, _)) = chosen else { return };
    info!(
        "full screen on {} ({}×{} at {},{}; monitors from the left: {})",
        monitor.name.as_deref().unwrap_or("a monitor"),
        monitor.physical_width,
        monitor.physical_height,
        monitor.physical_position.x,
        monitor.physical_position.y,
        listed.iter().map(|(_, m, _)| m.name.as_deref().unwrap_or("?")).collect::<Vec<_>>().join(", ")
    );
    window.mode = WindowMode::BorderlessFullscreen(MonitorSelection::Entity(entity));
    window.position = WindowPosition::At(monitor.physical_position);
    window.resolution.set_physical_resolution(monitor.physical_width, monitor.physical_height);
}

fn apply_background(settings: Res<ViewSettings>, mut clear: ResMut<ClearColor>) {
    if settings.is_changed() && clear.0 != settings.background {
        clear.0 = settings.background;
    }
}
