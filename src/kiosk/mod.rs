//! Kiosk mode: the viewer on an exhibition's touch screen or projector, left alone for a season.
//! Nobody there: an attract tour glides from stop to stop with large captions. A touch hands
//! over at once; after a while without one, "Are you still exploring?", then everything is put
//! back and the tour starts again. The visitor cannot reach the panels or quit (see `lockdown`).

mod attract;
pub mod lockdown;
#[cfg(not(target_arch = "wasm32"))]
pub mod memory;
mod overlay;
#[cfg(target_arch = "wasm32")]
mod page;
#[cfg(not(target_arch = "wasm32"))]
pub mod replaced;
#[cfg(not(target_arch = "wasm32"))]
pub mod simulate;
#[cfg(test)]
mod tests;

use crate::viewer::loading::{Collection, InitialLayout, TourBytes};
use crate::viewer::rendering::{LayoutTransition, ShowLayout};
use crate::viewer::ui::Filters;
use crate::viewer::{Locked, Selection, ViewSettings, ViewerState};
use bevy::input::keyboard::KeyboardInput;
use bevy::input::mouse::{MouseButtonInput, MouseWheel};
use bevy::input::touch::TouchInput;
use bevy::prelude::*;
use bevy::window::CursorMoved;
use pixfly_core::tour::Tour;

/// Seconds the "Are you still exploring?" question waits for a touch before the reset.
pub const COUNTDOWN_SECONDS: f32 = 10.0;

/// What the kiosk is doing.
#[derive(SubStates, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[source(ViewerState = ViewerState::Exploring)]
pub enum KioskMode {
    /// Nobody there: the tour plays.
    #[default]
    Attract,
    /// A visitor has the screen.
    Exploring,
    /// Nobody has touched it for a while: asking before the reset.
    Countdown,
}

impl KioskMode {
    pub fn name(self) -> &'static str {
        match self {
            KioskMode::Attract => "attract",
            KioskMode::Exploring => "exploring",
            KioskMode::Countdown => "countdown",
        }
    }
}

/// Kiosk systems in order each frame: notice visitors, then move the camera.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum KioskSystems {
    Input,
    Tour,
}

pub struct KioskPlugin {
    /// The tour to play; the bundle's largest hotspots when `None`.
    pub tour: Option<Tour>,
    /// Seconds without a touch before the countdown.
    pub idle_seconds: f32,
}

/// The kiosk's state: the tour, who touched it last, the language of the captions.
#[derive(Resource)]
pub struct Kiosk {
    pub tour: Option<Tour>,
    pub idle_seconds: f32,
    /// Seconds (of the app's clock) of the last touch, click, key or mouse movement.
    pub last_input: f64,
    /// When the countdown began.
    pub countdown_since: f64,
    /// Index into the tour's languages.
    pub language: usize,
    /// Resets so far (the soak test counts them).
    pub resets: u32,
    /// The visitor opened the panel of category chips.
    pub categories_open: bool,
}

impl Kiosk {
    /// The tour given, else the one read with the bundle (the web kiosk's; the desktop's is read
    /// and checked before the window opens), else one of the largest hotspots. Chosen once, by
    /// whichever system needs it first.
    pub fn choose_tour(
        &mut self,
        manifest: &pixfly_core::bundle::Manifest,
        file: Option<&TourBytes>,
    ) -> &Tour {
        if self.tour.is_none()
            && let Some(file) = file
        {
            match Tour::parse(&file.0, manifest) {
                Ok(tour) => self.tour = Some(tour),
                Err(e) => error!("the tour cannot be used ({e}); touring the largest hotspots instead"),
            }
        }
        self.tour.get_or_insert_with(|| Tour::from_hotspots(manifest))
    }

    /// The tour, once the collection it tours is known.
    pub fn tour(&self) -> &Tour {
        self.tour.as_ref().expect("the tour is chosen when the collection is shown")
    }
}

impl Plugin for KioskPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Kiosk {
            tour: self.tour.clone(),
            idle_seconds: self.idle_seconds,
            last_input: 0.0,
            countdown_since: 0.0,
            language: 0,
            resets: 0,
            categories_open: false,
        })
        .insert_resource(Locked)
        // No panels: the kiosk draws its own, for touch.
        .insert_resource(ViewSettings { show_ui: false, ..default() })
        .add_sub_state::<KioskMode>()
        .configure_sets(Update, (KioskSystems::Input, KioskSystems::Tour).chain())
        .add_systems(OnEnter(ViewerState::Exploring), choose_tour)
        .add_systems(
            Update,
            (notice_visitors, count_down)
                .chain()
                .in_set(KioskSystems::Input)
                .run_if(in_state(ViewerState::Exploring)),
        )
        .add_systems(OnEnter(KioskMode::Countdown), start_countdown)
        .add_plugins((attract::AttractPlugin, overlay::OverlayPlugin, lockdown::LockdownPlugin));
        #[cfg(not(target_arch = "wasm32"))]
        app.add_plugins(replaced::ReplacedPlugin)
            .add_systems(Update, memory::return_freed_memory.run_if(in_state(KioskMode::Attract)));
        #[cfg(target_arch = "wasm32")]
        app.add_plugins(page::KioskPagePlugin);
    }
}

/// The tour given, else one over the largest hotspots; shown in its layout.
fn choose_tour(
    mut kiosk: ResMut<Kiosk>,
    collection: Res<Collection>,
    file: Option<Res<TourBytes>>,
    mut initial: ResMut<InitialLayout>,
    mut show: MessageWriter<ShowLayout>,
) {
    let tour = kiosk.choose_tour(&collection.bundle.manifest, file.as_deref());
    if tour.layout != initial.0 {
        initial.0 = tour.layout;
        show.write(ShowLayout(tour.layout));
    }
}

/// Everything a visitor can do to the screen.
#[derive(bevy::ecs::system::SystemParam)]
struct VisitorInput<'w, 's> {
    touches: MessageReader<'w, 's, TouchInput>,
    buttons: MessageReader<'w, 's, MouseButtonInput>,
    wheels: MessageReader<'w, 's, MouseWheel>,
    keys: MessageReader<'w, 's, KeyboardInput>,
    moves: MessageReader<'w, 's, CursorMoved>,
}

impl VisitorInput<'_, '_> {
    /// Whether anything came since the last frame (a mouse moving by less than a pixel is not
    /// a visitor).
    fn any(&mut self) -> bool {
        self.touches.read().count()
            + self.buttons.read().count()
            + self.wheels.read().count()
            + self.keys.read().count()
            + self.moves.read().filter(|m| m.delta.is_some_and(|d| d.length() > 0.5)).count()
            > 0
    }
}

/// Any touch, click, wheel, key or mouse movement is a visitor: attract mode and the countdown
/// give way at once.
fn notice_visitors(
    time: Res<Time>,
    mode: Res<State<KioskMode>>,
    mut next: ResMut<NextState<KioskMode>>,
    mut kiosk: ResMut<Kiosk>,
    mut input: VisitorInput,
) {
    if !input.any() {
        return;
    }
    kiosk.last_input = time.elapsed_secs_f64();
    if *mode.get() != KioskMode::Exploring {
        info!("kiosk: a visitor ({} → exploring)", mode.get().name());
        next.set(KioskMode::Exploring);
    }
}

fn start_countdown(time: Res<Time>, mut kiosk: ResMut<Kiosk>) {
    kiosk.countdown_since = time.elapsed_secs_f64();
    info!("kiosk: nobody for {} s, asking whether anyone is still exploring", kiosk.idle_seconds);
}

/// Exploring → countdown after `idle_seconds` without input; countdown → reset → attract
/// after [`COUNTDOWN_SECONDS`] more.
fn count_down(
    time: Res<Time>,
    mode: Res<State<KioskMode>>,
    mut next: ResMut<NextState<KioskMode>>,
    mut kiosk: ResMut<Kiosk>,
    mut reset: Reset,
) {
    let now = time.elapsed_secs_f64();
    match mode.get() {
        KioskMode::Exploring if now - kiosk.last_input >= kiosk.idle_seconds as f64 => {
            next.set(KioskMode::Countdown);
        }
        KioskMode::Countdown if now - kiosk.countdown_since >= COUNTDOWN_SECONDS as f64 => {
            reset.apply(&mut kiosk);
            next.set(KioskMode::Attract);
        }
        _ => {}
    }
}

/// What a reset puts back: no search or filters, nothing open, the tour's layout, the first
/// language, the usual image size (the attract tour then glides back to the whole view).
#[derive(bevy::ecs::system::SystemParam)]
pub struct Reset<'w> {
    filters: ResMut<'w, Filters>,
    selection: ResMut<'w, Selection>,
    settings: ResMut<'w, ViewSettings>,
    transition: Res<'w, LayoutTransition>,
    show: MessageWriter<'w, ShowLayout>,
    fly_mode: ResMut<'w, crate::viewer::camera::FlyMode>,
}

impl Reset<'_> {
    fn apply(&mut self, kiosk: &mut Kiosk) {
        info!("kiosk: reset (nobody answered the countdown)");
        self.filters.set_if_neq(Filters::default());
        self.selection.set_if_neq(Selection::default());
        let settings = ViewSettings { show_ui: false, ..default() };
        self.settings.set_if_neq(settings);
        self.fly_mode.0 = false;
        let layout = kiosk.tour().layout;
        if self.transition.layout != layout {
            self.show.write(ShowLayout(layout));
        }
        kiosk.language = 0;
        kiosk.categories_open = false;
        kiosk.resets += 1;
    }
}
