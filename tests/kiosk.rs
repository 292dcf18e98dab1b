//! `pixfly kiosk` end to end on simulated time: the real kiosk renders a small bundle on the CPU
//! (lavapipe under Xvfb), and its pictures and reports are checked: the attract tour's second
//! stop with its caption, a touch handing over, the countdown and the reset, a bad tour file,
//! SIGTERM, and memory through hours of tours and visitors.

mod common;

use common::*;
use image::RgbImage;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const LAVAPIPE: &str = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";

/// One bundle for every test here (built once): 25 images in three hotspots.
fn bundle() -> &'static Path {
    static BUNDLE: OnceLock<PathBuf> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kiosk");
        let _ = std::fs::remove_dir_all(&root);
        two_tone_bundle(&root)
    })
}

/// `pixfly kiosk BUNDLE ARGS` under Xvfb on lavapipe, optionally stopped with SIGTERM after
/// `term_after` seconds; returns (exit code, stderr).
fn kiosk(args: &[&str], term_after: Option<u32>) -> (Option<i32>, String) {
    assert!(Path::new(LAVAPIPE).exists(), "Mesa's lavapipe is missing: run scripts/install-viewer-deps.sh");
    let mut command = Command::new("xvfb-run");
    command.args(["-a", "-s", "-screen 0 1280x1024x24"]);
    if let Some(seconds) = term_after {
        command.args(["timeout", "--preserve-status", "-s", "TERM", &seconds.to_string()]);
    }
    let output = command
        .arg(env!("CARGO_BIN_EXE_pixfly"))
        .arg("kiosk")
        .arg(bundle())
        .args(args)
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", LAVAPIPE)
        .env("NO_COLOR", "1")
        .output()
        .expect("xvfb-run runs (scripts/install-viewer-deps.sh installs it)");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

struct Shot {
    picture: RgbImage,
    report: Value,
}

fn shot(name: &str, args: &[&str]) -> Shot {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kiosk-shots");
    std::fs::create_dir_all(&dir).unwrap();
    let (png, json) = (dir.join(format!("{name}.png")), dir.join(format!("{name}.json")));
    let _ = std::fs::remove_file(&png);
    let mut all = vec!["--screenshot", png.to_str().unwrap(), "--report", json.to_str().unwrap()];
    if !args.contains(&"--size") {
        all.extend(["--size", "960x540"]);
    }
    all.extend(args);
    let (code, stderr) = kiosk(&all, None);
    assert_eq!(code, Some(0), "kiosk failed: {stderr}");
    let picture = image::open(&png).unwrap().into_rgb8();
    let report = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    Shot { picture, report }
}

/// A tour of two hotspots with captions.
fn tour(dir: &Path) -> PathBuf {
    let path = dir.join("tour.json");
    let tour = serde_json::json!({
        "version": 1,
        "stops": [
            {"hotspot": 0, "title": "The first group", "linger_seconds": 8},
            {"hotspot": 1, "title": "The second group", "text": "Seen from close by.", "credit": "Test pattern", "linger_seconds": 30},
        ]
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&tour).unwrap()).unwrap();
    path
}

fn temp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kiosk-files").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Pixels brighter than `level` in every channel within a box (fractions of the picture).
fn bright_pixels(picture: &RgbImage, (x0, y0, x1, y1): (f32, f32, f32, f32), level: u8) -> usize {
    let (w, h) = (picture.width() as f32, picture.height() as f32);
    let mut count = 0;
    for y in (y0 * h) as u32..(y1 * h) as u32 {
        for x in (x0 * w) as u32..(x1 * w) as u32 {
            if picture.get_pixel(x, y).0.iter().all(|&c| c > level) {
                count += 1;
            }
        }
    }
    count
}

#[test]
fn the_attract_tour_reaches_its_second_stop_with_its_caption_on_screen() {
    let tour = tour(&temp("second-stop"));
    // By 45 s the whole view (≤ 10 s there, ~5 s lingering), the first stop (≤ 10 s there, 8 s
    // lingering) and the flight to the second (≤ 10 s) are behind; its 30 s have begun.
    let shot = shot("second-stop", &["--tour", tour.to_str().unwrap(), "--after", "45"]);
    let r = &shot.report;
    assert_eq!(r["mode"], "attract", "{r}");
    assert_eq!((r["stop"]["number"].as_u64(), r["stop"]["arrived"].as_bool()), (Some(2), Some(true)), "{r}");
    assert_eq!(r["stop"]["caption"]["title"], "The second group");
    assert_eq!(r["stop"]["caption"]["credit"], "Test pattern");
    assert_eq!(r["caption_opacity"].as_f64(), Some(1.0));
    // The caption card's white text at the left, the prompt at the bottom's centre, and the
    // images in what the card leaves.
    let text = bright_pixels(&shot.picture, (0.03, 0.2, 0.33, 0.8), 200);
    let prompt = bright_pixels(&shot.picture, (0.35, 0.85, 0.65, 0.97), 120);
    assert!(text > 300 && prompt > 150, "caption text {text} px, prompt {prompt} px");
    let colourful = shot
        .picture
        .enumerate_pixels()
        .filter(|(x, _, p)| *x > 960 * 4 / 10 && p.0.iter().max().unwrap() - p.0.iter().min().unwrap() > 40)
        .count();
    assert!(colourful > 5_000, "only {colourful} coloured pixels: are the images in view?");
    assert_eq!(r["errors_logged"], 0);
}

#[test]
fn a_touch_hands_over_from_attract_mode() {
    let shot = shot("touched", &["--after", "16", "--touch", "480,270@12"]);
    let r = &shot.report;
    assert_eq!((r["mode"].as_str(), r["taps"].as_u64()), (Some("exploring"), Some(1)), "{r}");
    // "Touch to explore" is gone; the visitor's bar is at the bottom instead.
    assert!(r["stop"].is_null() || r["mode"] == "exploring");
    let bar = bright_pixels(&shot.picture, (0.0, 0.86, 0.5, 0.99), 200);
    assert!(bar > 100, "no bar at the bottom ({bar} bright pixels)");
}

#[test]
fn idle_returns_to_the_tour_through_the_countdown() {
    let asking = shot("countdown", &["--idle", "10", "--touch", "480,270@5", "--after", "20"]);
    assert_eq!(asking.report["mode"], "countdown", "{}", asking.report);
    // The screen is dimmed around the question.
    let question = bright_pixels(&asking.picture, (0.3, 0.35, 0.7, 0.65), 200);
    assert!(question > 300, "no question on screen ({question} px)");
    let back = shot("after-reset", &["--idle", "10", "--touch", "480,270@5", "--after", "30"]);
    assert_eq!(
        (back.report["mode"].as_str(), back.report["resets"].as_u64()),
        (Some("attract"), Some(1)),
        "{}",
        back.report
    );
}

#[test]
fn a_bad_tour_file_is_refused_naming_the_stop() {
    let path = temp("bad-tour").join("tour.json");
    let tour = serde_json::json!({"version": 1, "stops": [{"hotspot": 0}, {"hotspot": "no such group"}]});
    std::fs::write(&path, tour.to_string()).unwrap();
    let (code, stderr) = kiosk(&["--tour", path.to_str().unwrap()], None);
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("tour.json: stop 2: field `hotspot`: the bundle has no hotspot \"no such group\""),
        "{stderr}"
    );
}

#[test]
fn sigterm_quits_with_exit_code_zero() {
    // A run that would last a simulated day, stopped after a few seconds of real time.
    let png = temp("sigterm").join("never.png");
    let (code, stderr) =
        kiosk(&["--screenshot", png.to_str().unwrap(), "--after", "86400", "--size", "320x200"], Some(12));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("kiosk: stopping (asked to terminate)"), "{stderr}");
    assert!(!png.exists());
}

/// The kiosk as installed (no --screenshot) on an X server with no window manager, as a bare
/// `startx` session has it: the window fills the screen all the same (a full-screen request alone
/// goes unanswered there), and SIGTERM quits it with 0.
#[test]
fn the_kiosk_fills_the_screen_without_a_window_manager() {
    let script = format!(
        "{pixfly} kiosk {bundle} & kiosk=$!; sleep 12; xwininfo -root -tree > {out}; kill -TERM $kiosk; wait $kiosk",
        pixfly = env!("CARGO_BIN_EXE_pixfly"),
        bundle = bundle().display(),
        out = temp("fills").join("windows.txt").display(),
    );
    let output = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1024x600x24", "sh", "-c", &script])
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", LAVAPIPE)
        .env("NO_COLOR", "1")
        .output()
        .expect("xvfb-run runs (scripts/install-viewer-deps.sh installs it and xwininfo)");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("full screen on"), "{log}");
    let window = pixfly_window(&temp("fills").join("windows.txt"));
    assert!(window.contains(" 1024x600+0+0 "), "{window}");
}

/// Two monitors side by side (Xorg's dummy driver with two outputs: Xvfb cannot have two):
/// `--display 1` fills the one on the right, `--display 0` the one on the left.
#[test]
fn the_kiosk_fills_the_monitor_it_is_given() {
    let dir = temp("monitors");
    let config = dir.join("xorg.conf");
    std::fs::write(&config, DUMMY_XORG).unwrap();
    for (display, expected) in [("1", " 1024x576+1280+0 "), ("0", " 1280x720+0+0 ")] {
        let windows = dir.join(format!("windows-{display}.txt"));
        let script = format!(
            "Xorg -config {config} -noreset -nolisten tcp -logfile {dir}/xorg.log -displayfd 3 3> {dir}/display & xorg=$!; \
             sleep 3; export DISPLAY=:$(cat {dir}/display); \
             xrandr --addmode DUMMY1 1024x576 && \
             xrandr --output DUMMY0 --mode 1280x720 --pos 0x0 --output DUMMY1 --mode 1024x576 --pos 1280x0 && \
             {{ {pixfly} kiosk {bundle} --display {display} & kiosk=$!; sleep 12; xwininfo -root -tree > {windows}; \
             kill -TERM $kiosk; wait $kiosk; code=$?; }}; kill $xorg; exit ${{code:-1}}",
            config = config.display(),
            dir = dir.display(),
            pixfly = env!("CARGO_BIN_EXE_pixfly"),
            bundle = bundle().display(),
            windows = windows.display(),
        );
        let output = Command::new("sh")
            .args(["-c", &script])
            .env("WGPU_BACKEND", "vulkan")
            .env("VK_ICD_FILENAMES", LAVAPIPE)
            .env("NO_COLOR", "1")
            .output()
            .expect("sh runs");
        let log = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "Xorg, xrandr or the kiosk failed (scripts/install-viewer-deps.sh installs them): {log}"
        );
        let window = pixfly_window(&windows);
        assert!(window.contains(expected), "--display {display}: {window}\n{log}");
    }
}

/// pixfly's window in `xwininfo -root -tree`'s listing: its line, with the size and place.
fn pixfly_window(listing: &Path) -> String {
    let windows = std::fs::read_to_string(listing).unwrap();
    let window = windows.lines().find(|l| l.contains("\"pixfly\""));
    window.unwrap_or_else(|| panic!("no window: {windows}")).to_string()
}

/// An X server with a 2304 × 720 screen and the dummy driver's outputs, for two monitors.
const DUMMY_XORG: &str = r#"
Section "Device"
  Identifier "dummy"
  Driver "dummy"
  VideoRam 256000
EndSection
Section "Monitor"
  Identifier "monitor"
  HorizSync 5.0-1000.0
  VertRefresh 5.0-200.0
EndSection
Section "Screen"
  Identifier "screen"
  Device "dummy"
  Monitor "monitor"
  DefaultDepth 24
  SubSection "Display"
    Depth 24
    Virtual 2304 720
  EndSubSection
EndSection
"#;

/// Two fingers spreading apart zoom in natively too (the camera's touch controls): the same
/// visitor with and without a pinch, a few seconds later.
#[test]
fn a_pinch_zooms_in() {
    let without = shot("no-pinch", &["--after", "17", "--touch", "20,20@12"]);
    let with = shot("pinch", &["--after", "17", "--touch", "20,20@12", "--pinch", "480,270@13"]);
    let radius = |shot: &Shot| shot.report["camera"]["radius"].as_f64().unwrap();
    assert_eq!((with.report["mode"].as_str(), with.report["pinches"].as_u64()), (Some("exploring"), Some(1)));
    assert!(
        radius(&with) < radius(&without) * 0.8,
        "{} with the pinch, {} without",
        radius(&with),
        radius(&without)
    );
}

/// Two simulated hours of tours, visitors and resets: memory ends where it was after the first
/// cycle of tour, visitor and reset (bench/kiosk_soak.sh runs a day on the default collection).
#[test]
fn memory_stays_flat_through_hours_of_tours_and_visitors() {
    let shot = shot(
        "soak",
        &["--after", "7200", "--step", "1", "--idle", "30", "--visitors-per-hour", "8", "--size", "480x270"],
    );
    let r = &shot.report;
    assert!(r["resets"].as_u64().unwrap() >= 4 && r["loops"].as_u64().unwrap() >= 3, "{r}");
    let (first, last) = (&r["memory_after_first_cycle"], &r["memory_after_last_loop"]);
    for key in ["resident_bytes", "texture_bytes"] {
        let (start, end) = (first[key].as_f64().unwrap(), last[key].as_f64().unwrap());
        assert!(
            end <= start * 1.05 && end >= start * 0.95,
            "{key}: {start} after the first cycle, {end} after the last"
        );
    }
    assert_eq!(r["errors_logged"], 0);
}

/// A curator's update while the kiosk runs: the bundle's tour changes on disk, and at the next
/// reset the kiosk starts again on it (the same command), then carries on.
#[test]
fn a_bundle_replaced_on_disk_is_taken_up_at_the_next_reset() {
    let root = temp("replaced");
    let copy = root.join("bundle");
    let _ = std::fs::remove_dir_all(&copy);
    let status = Command::new("cp").arg("-r").arg(bundle()).arg(&copy).status().unwrap();
    assert!(status.success());
    tour(&copy);
    let png = root.join("after-update.png");
    let _ = std::fs::remove_file(&png);
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x1024x24"])
        .arg(env!("CARGO_BIN_EXE_pixfly"))
        .arg("kiosk")
        .arg(&copy)
        .args(["--screenshot", png.to_str().unwrap(), "--after", "30", "--size", "480x270"])
        .args(["--idle", "5", "--touch", "100,100@1"])
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", LAVAPIPE)
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = String::new();
    let mut changed = false;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        // As soon as the tour plays, before the first reset (5 s idle + 10 s of countdown).
        if !changed && line.contains("kiosk: attract tour") {
            let mut tour = std::fs::read(copy.join("tour.json")).unwrap();
            tour.push(b'\n');
            std::fs::write(copy.join("tour.json"), tour).unwrap();
            changed = true;
        }
        log.push_str(&line);
        log.push('\n');
    }
    assert!(child.wait().unwrap().success(), "{log}");
    assert!(log.contains("kiosk: the bundle was replaced on disk; starting again to show it"), "{log}");
    // Started again: the new run's own tour, to its end and its picture.
    assert!(log.matches("kiosk: attract tour").count() >= 3, "{log}");
    assert!(png.exists(), "{log}");
}
