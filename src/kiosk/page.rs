//! The web kiosk tells the page what it shows (`data-pixfly-kiosk`: attract, exploring or
//! countdown; `data-pixfly-kiosk-caption`: the caption on screen), for scripts and tests, and
//! counts its resets (`data-pixfly-kiosk-resets`): at each, the page reloads if the bundle on
//! the server has changed (web/index.html).

use super::attract::{Glide, caption};
use super::{Kiosk, KioskMode};
use crate::viewer::ViewerState;
use crate::viewer::loading::Collection;
use crate::viewer::web::root_element;
use bevy::prelude::*;

pub struct KioskPagePlugin;

impl Plugin for KioskPagePlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, write_mode_to_page.run_if(in_state(ViewerState::Exploring)));
    }
}

fn write_mode_to_page(
    mode: Res<State<KioskMode>>,
    kiosk: Res<Kiosk>,
    glide: Res<Glide>,
    collection: Res<Collection>,
    mut written: Local<Option<(KioskMode, Option<usize>, u32)>>,
) {
    let shown = (*mode.get(), glide.stop.filter(|_| glide.arrived.is_some()), kiosk.resets);
    if *written == Some(shown) || kiosk.tour.is_none() {
        return;
    }
    *written = Some(shown);
    let Some(root) = root_element() else { return };
    let _ = root.set_attribute("data-pixfly-kiosk", mode.get().name());
    let title = shown.1.map(|stop| caption(&kiosk, &collection, stop, 0).title).unwrap_or_default();
    let _ = root.set_attribute("data-pixfly-kiosk-caption", &title);
    let _ = root.set_attribute("data-pixfly-kiosk-resets", &kiosk.resets.to_string());
}
