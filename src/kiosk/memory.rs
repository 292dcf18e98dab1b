//! Memory that stays flat for weeks. A day of visitors decodes thousands of thumbnails on the
//! IO threads and frees them at each reset; glibc's malloc keeps the freed pages, spread over an
//! arena per thread, and resident memory crept up 22 % over a simulated day. Fewer arenas and
//! giving the freed pages back once a tour keep it where it was (bench/kiosk_soak.sh).

use super::attract::Glide;
use bevy::prelude::*;

/// Two malloc arenas, as `MALLOC_ARENA_MAX=2` would set: before the app starts its threads.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Each time the tour is back at the whole view, the pages freed since go back to the system.
pub fn return_freed_memory(glide: Res<Glide>, mut trimmed_at: Local<u32>) {
    if glide.loops == *trimmed_at {
        return;
    }
    *trimmed_at = glide.loops;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory at the top of each heap and in free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}
