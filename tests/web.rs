//! The web build end to end: `pixfly export-web`, `pixfly serve`, and the wasm viewer in a real
//! browser (Debian's Chromium driven by playwright-core, WebGL2 on SwiftShader).

mod common;

use common::*;
use image::RgbImage;
use pixfly_core::bundle::Bundle;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `pixfly serve` on a free port, stopped when dropped.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    url: String,
}

impl Server {
    fn start(site: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pixfly"))
            .args(["serve".as_ref(), site.as_os_str(), "--port".as_ref(), "0".as_ref()])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        // "serving SITE at http://127.0.0.1:PORT/ (Ctrl-C stops)"
        let url = line.split(" at ").nth(1).and_then(|s| s.split('/').nth(2)).map(|a| format!("http://{a}"));
        Server { url: url.unwrap_or_else(|| panic!("unexpected first line: {line:?}")), child }
    }

    /// Stop the server and return its log.
    fn stop(mut self) -> String {
        self.child.kill().unwrap();
        let mut log = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
        log
    }

    /// One raw HTTP request (paths exactly as written, `..` included): status, head, body.
    fn request(&self, method: &str, path: &str, headers: &str) -> (u16, String, Vec<u8>) {
        let mut stream = TcpStream::connect(self.url.trim_start_matches("http://")).unwrap();
        write!(stream, "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}\r\n")
            .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete answer");
        let head = String::from_utf8_lossy(&answer[..split]).to_lowercase();
        let status = head[9..12].parse().unwrap();
        (status, head, answer[split + 4..].to_vec())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_answers_like_a_static_host_and_nothing_outside_the_site() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("secret.txt"), "outside the site").unwrap();
    let site = root.path().join("site");
    std::fs::create_dir_all(site.join("bundle")).unwrap();
    std::fs::write(site.join("index.html"), "<!doctype html><title>pixfly</title>").unwrap();
    let wasm: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    std::fs::write(site.join("pixfly_bg.wasm"), &wasm).unwrap();
    std::fs::write(site.join("bundle/manifest.json"), "{}").unwrap();
    let server = Server::start(&site);

    let (status, head, body) = server.request("GET", "/?bundle=bundle", "");
    assert_eq!((status, body.as_slice()), (200, b"<!doctype html><title>pixfly</title>".as_slice()));
    assert!(head.contains("content-type: text/html"), "{head}");

    let (status, head, body) = server.request("GET", "/pixfly_bg.wasm", "");
    assert_eq!((status, body), (200, wasm.clone()));
    assert!(head.contains("content-type: application/wasm"), "{head}");
    assert!(head.contains("accept-ranges: bytes"), "{head}");
    let (status, head, _) = server.request("GET", "/bundle/manifest.json", "");
    assert!(status == 200 && head.contains("content-type: application/json"), "{head}");

    // Range requests: a part, the tail, and one past the end.
    let (status, head, body) = server.request("GET", "/pixfly_bg.wasm", "Range: bytes=100-199\r\n");
    assert_eq!((status, body.as_slice()), (206, &wasm[100..200]));
    assert!(head.contains("content-range: bytes 100-199/1000"), "{head}");
    let (status, _, body) = server.request("GET", "/pixfly_bg.wasm", "Range: bytes=-10\r\n");
    assert_eq!((status, body.as_slice()), (206, &wasm[990..]));
    let (status, _, _) = server.request("GET", "/pixfly_bg.wasm", "Range: bytes=1000-\r\n");
    assert_eq!(status, 416);
    let (status, head, body) = server.request("HEAD", "/pixfly_bg.wasm", "");
    assert!(status == 200 && body.is_empty() && head.contains("content-length: 1000"), "{head}");

    // A compressed copy beside the wasm goes to browsers that accept its coding, as the wasm.
    std::fs::write(site.join("pixfly_bg.wasm.br"), b"brotli bytes").unwrap();
    let (status, head, body) =
        server.request("GET", "/pixfly_bg.wasm", "Accept-Encoding: gzip, deflate, br\r\n");
    assert_eq!((status, body.as_slice()), (200, b"brotli bytes".as_slice()));
    assert!(
        head.contains("content-encoding: br") && head.contains("content-type: application/wasm"),
        "{head}"
    );
    let (status, head, body) = server.request("GET", "/pixfly_bg.wasm", "Accept-Encoding: gzip\r\n");
    assert!(status == 200 && body == wasm && !head.contains("content-encoding"), "{head}");
    let (status, _, body) =
        server.request("GET", "/pixfly_bg.wasm", "Accept-Encoding: br\r\nRange: bytes=0-9\r\n");
    assert_eq!((status, body.as_slice()), (206, &wasm[..10]));

    // Nothing outside the folder, however the path is spelt.
    for path in [
        "/../secret.txt",
        "/bundle/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/bundle/%2E%2E/%2e%2e/secret.txt",
    ] {
        let (status, _, body) = server.request("GET", path, "");
        assert_eq!(status, 403, "{path}");
        assert!(!String::from_utf8_lossy(&body).contains("outside the site"), "{path}");
    }
    assert_eq!(server.request("GET", "/missing.png", "").0, 404);
    assert_eq!(server.request("POST", "/index.html", "Content-Length: 0\r\n").0, 405);

    let log = server.stop();
    assert!(log.contains("GET /pixfly_bg.wasm 206 100 bytes application/wasm"), "{log}");
    assert!(log.contains("GET /../secret.txt 403"), "{log}");
}

/// A browser opens a handful of connections at once and keeps them open between requests; every
/// one must be answered, however many are open. (The first server, on tiny_http, left some
/// unread when they arrived together, and the page waited forever for an atlas.)
#[test]
fn serve_answers_every_kept_alive_connection() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("atlas.jpg"), vec![7u8; 20_000]).unwrap();
    let server = Server::start(site.path());
    let address = server.url.trim_start_matches("http://").to_string();
    let mut connections: Vec<TcpStream> = (0..24).map(|_| TcpStream::connect(&address).unwrap()).collect();
    for round in 0..2 {
        for stream in &mut connections {
            write!(stream, "GET /atlas.jpg HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n")
                .unwrap();
        }
        for (i, stream) in connections.iter_mut().enumerate() {
            stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
            let (status, length) = read_answer_head(stream)
                .unwrap_or_else(|e| panic!("connection {i}, round {round}: no answer within 20 s ({e})"));
            assert_eq!((status, length), (200, 20_000), "connection {i}, round {round}");
            let mut body = vec![0u8; length];
            stream.read_exact(&mut body).unwrap();
        }
    }
}

/// Status and `Content-Length` of the answer coming on a kept-alive connection.
fn read_answer_head(stream: &mut TcpStream) -> std::io::Result<(u16, usize)> {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    let length =
        head.lines().find_map(|l| l.strip_prefix("content-length: ")).and_then(|v| v.trim().parse().ok());
    Ok((head[9..12].parse().unwrap(), length.unwrap_or(0)))
}

#[test]
fn serve_refuses_a_missing_folder_clearly() {
    let output = pixfly(&["serve".as_ref(), "/no/such/site".as_ref(), "--port".as_ref(), "0".as_ref()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("/no/such/site"), "{stderr}");
}

#[test]
fn export_web_writes_the_viewer_and_the_bundle_without_its_cache() {
    let root = tempfile::tempdir().unwrap();
    let bundle = two_tone_bundle(root.path());
    let viewer = root.path().join("viewer");
    std::fs::create_dir_all(&viewer).unwrap();
    for name in ["index.html", "pixfly.js", "pixfly_bg.wasm"] {
        std::fs::write(viewer.join(name), name).unwrap();
    }
    let site = root.path().join("site");
    let export = |bundle: &Path, viewer: &Path| {
        let args = ["export-web".as_ref(), bundle.as_os_str(), "-o".as_ref(), site.as_os_str()];
        let output = pixfly(&[&args[..], &["--viewer".as_ref(), viewer.as_os_str()]].concat());
        (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
    };

    let optional = ["pixfly_bg.wasm.br", "pixfly-webgpu.js", "pixfly-webgpu_bg.wasm"];
    for name in optional {
        std::fs::write(viewer.join(name), name).unwrap();
    }
    let (ok, stderr) = export(&bundle, &viewer);
    assert!(ok, "{stderr}");
    for name in ["index.html", "pixfly.js", "pixfly_bg.wasm"].iter().chain(&optional) {
        assert_eq!(std::fs::read_to_string(site.join(name)).unwrap(), *name);
    }
    // A viewer built without compressed copies or the WebGPU build takes the old ones away
    // (else they'd be served).
    for name in optional {
        std::fs::remove_file(viewer.join(name)).unwrap();
    }
    let (ok, stderr) = export(&bundle, &viewer);
    assert!(ok && optional.iter().all(|name| !site.join(name).exists()), "{stderr}");
    let copied = Bundle::open(&site.join("bundle")).expect("the site's bundle is a whole bundle");
    assert_eq!(copied.manifest, Bundle::open(&bundle).unwrap().manifest);
    assert!(
        bundle.join("cache").exists() && !site.join("bundle/cache").exists(),
        "the build cache was copied"
    );
    let info = pixfly(&["info".as_ref(), site.join("bundle").as_os_str()]);
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    // The site's kiosk has a tour (of the largest hotspots, the bundle having none of its own).
    let manifest = copied.manifest.clone();
    let tour = std::fs::read(site.join("bundle/tour.json")).unwrap();
    let tour = pixfly_core::tour::Tour::parse(&tour, &manifest).expect("the site's tour reads");
    assert_eq!(tour.stops.len(), manifest.clusters.len().min(8));

    // Hotspot names a curator gave travel in the site's manifest.
    let representative = &manifest.images[manifest.clusters[0].representative as usize].filename;
    let names = serde_json::json!({"version": 1, "hotspots": {representative: "Named by hand"}});
    std::fs::write(bundle.join("names.json"), names.to_string()).unwrap();
    let (ok, stderr) = export(&bundle, &viewer);
    assert!(ok, "{stderr}");
    let renamed = Bundle::open(&site.join("bundle")).unwrap().manifest;
    assert_eq!(renamed.clusters[0].name, "Named by hand");
    assert_eq!(renamed.images, manifest.images);
    std::fs::remove_file(bundle.join("names.json")).unwrap();

    // What is wrong, and with which file.
    let (ok, stderr) = export(root.path(), &viewer);
    assert!(!ok && stderr.contains("manifest.json"), "{stderr}");
    let (ok, stderr) = export(&bundle, &root.path().join("nowhere"));
    assert!(!ok && stderr.contains("scripts/build-web.sh"), "{stderr}");
}

/// One visit with Chromium (web/tests/browser.mjs): what the page said, and its screenshot.
fn visit(url: &str, name: &str, args: &[&str]) -> (Value, RgbImage) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web");
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&png);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/tests/browser.mjs");
    let mut command = Command::new("node");
    command.arg(script).arg(url).arg(&png).args(args);
    let output = command.output().expect("node runs (Debian's nodejs)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "browser.mjs failed: {}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(result["error"].is_null(), "{name}: {result}");
    let picture = image::open(&png).unwrap().into_rgb8();
    (result, picture)
}

/// Pixels within ±12 of a colour: how many, and their centre.
fn find_colour(picture: &RgbImage, colour: [u8; 3], x_range: std::ops::Range<u32>) -> (usize, f32, f32) {
    let (mut n, mut sx, mut sy) = (0usize, 0.0f32, 0.0f32);
    for (x, y, p) in picture.enumerate_pixels() {
        if x_range.contains(&x) && near(p.0, colour, 12) {
            n += 1;
            sx += x as f32;
            sy += y as f32;
        }
    }
    (n, sx / n.max(1) as f32, sy / n.max(1) as f32)
}

fn built_viewer() -> PathBuf {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/dist");
    assert!(
        dist.join("pixfly_bg.wasm").exists()
            && Path::new(env!("CARGO_MANIFEST_DIR")).join("web/node_modules").exists(),
        "the web viewer is not built: run scripts/build-web.sh (scripts/test.sh does)"
    );
    dist
}

#[test]
fn the_web_viewer_shows_the_collection_in_chromium() {
    let viewer = built_viewer();
    let root = tempfile::tempdir().unwrap();
    let bundle_dir = two_tone_bundle(root.path());
    let bundle = Bundle::open(&bundle_dir).unwrap();
    let site = root.path().join("site");
    let output = pixfly(&[
        "export-web".as_ref(),
        bundle_dir.as_os_str(),
        "-o".as_ref(),
        site.as_os_str(),
        "--viewer".as_ref(),
        viewer.as_os_str(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let server = Server::start(&site);

    // The grid: every image's own colours on the canvas, rendered by WebGL2, with no errors.
    let (result, grid) = visit(&format!("{}/?layout=grid", server.url), "grid", &[]);
    assert_eq!(result["state"], "exploring", "{result}");
    assert_eq!(result["atlases"], "1/1", "{result}");
    assert_eq!(result["console_errors"], serde_json::json!([]), "{result}");
    assert_eq!(result["page_errors"], serde_json::json!([]), "{result}");
    assert_eq!(result["status_visible"], false, "{result}");
    assert_eq!(result["graphics_api"], "webgl2", "{result}");
    let width = grid.width();
    let images_seen = |picture: &RgbImage| {
        let image_colour = |filename| atlas_pixel(&bundle_dir, &bundle, filename, 0.5, 0.25);
        let images = bundle.manifest.images.iter();
        images.filter(|i| find_colour(picture, image_colour(&i.filename), 0..width).0 >= 30).count()
    };
    let seen = images_seen(&grid);
    assert!(seen >= 24, "only {seen} of 25 images' colours are on the canvas");

    // Where the browser has WebGPU, the page loads the WebGPU build, which draws the same; and
    // when the device is lost, the page comes back.
    let (result, picture) =
        visit(&format!("{}/?layout=grid", server.url), "webgpu", &["--webgpu", "--lose-context"]);
    assert_eq!(result["graphics_api"], "webgpu", "{result}");
    assert_eq!(result["reloaded"], true, "{result}");
    assert_eq!(result["atlases"], "1/1", "{result}");
    // Bevy reports the loss it was dealt, and nothing else goes wrong.
    let errors = result["console_errors"].as_array().unwrap();
    assert!(errors.iter().all(|e| e.as_str().unwrap().contains("DeviceLost")), "{result}");
    let seen = images_seen(&picture);
    assert!(seen >= 24, "WebGPU: only {seen} of 25 images' colours are on the canvas");

    // A click on a known image opens its details, and the page's URL now names it. The two
    // images whose colours differ most from all others' are the ones to look for.
    let colours: Vec<_> =
        (0..24).map(|i| atlas_pixel(&bundle_dir, &bundle, &format!("img{i:02}.png"), 0.5, 0.25)).collect();
    let distinctness = |i: usize| {
        let apart = |a: [u8; 3], b: [u8; 3]| a.iter().zip(b).map(|(&p, q)| p.abs_diff(q)).max().unwrap();
        (0..24).filter(|&j| j != i).map(|j| apart(colours[i], colours[j])).min().unwrap()
    };
    // Grey is too near the page's own greys.
    let mut order: Vec<usize> = (0..24)
        .filter(|&i| colours[i].iter().max().unwrap() - colours[i].iter().min().unwrap() > 40)
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(distinctness(i)));
    let (first, second) = (format!("img{:02}.png", order[0]), format!("img{:02}.png", order[1]));
    let target = record(&bundle, &first);
    let colour = colours[order[0]];
    let (n, x, y) = find_colour(&grid, colour, 0..width);
    assert!(n >= 1000, "{first} is not on the canvas");
    eprintln!("clicking {first} ({colour:?}) at {x:.0},{y:.0}");
    let point = format!("{x},{y}");
    let (result, picture) = visit(&format!("{}/?layout=grid", server.url), "clicked", &["--click", &point]);
    assert!(result["url"].as_str().unwrap().contains(&format!("image={}", target.id)), "{result}");
    let (in_panel, _, _) = find_colour(&picture, colour, width * 3 / 4..width);
    assert!(in_panel > 2000, "the detail panel shows {in_panel} pixels of {first}'s colour");

    // That URL, shared, opens the same image again; and after the WebGL context is lost (a
    // driver reset), the page comes back to it.
    let link = result["url"].as_str().unwrap().to_string();
    let (result, picture) = visit(&link, "shared", &["--lose-context"]);
    assert_eq!(result["reloaded"], true, "{result}");
    assert_eq!(result["url"], link.as_str(), "{result}");
    assert_eq!(result["console_errors"], serde_json::json!([]), "{result}");
    assert!(find_colour(&picture, colour, width * 3 / 4..width).0 > 2000, "the shared link lost the detail");

    // On a touch screen a tap selects.
    let other = record(&bundle, &second);
    let (n, x, y) = find_colour(&grid, colours[order[1]], 0..width);
    assert!(n >= 1000, "{second} is not on the canvas");
    let (result, _) =
        visit(&format!("{}/?layout=grid", server.url), "tapped", &["--tap", &format!("{x},{y}")]);
    assert!(result["url"].as_str().unwrap().contains(&format!("image={}", other.id)), "{result}");

    // The canvas follows the window: made taller, images are drawn in the new part too.
    let (result, picture) =
        visit(&format!("{}/?layout=grid", server.url), "resized", &["--resize", "1024x900"]);
    assert_eq!(result["canvas"], serde_json::json!([1024, 900]), "{result}");
    let lower = image::imageops::crop_imm(&picture, 300, 660, 724, 240).to_image();
    let colourful =
        lower.pixels().filter(|p| p.0.iter().max().unwrap() - p.0.iter().min().unwrap() > 40).count();
    assert!(colourful > 5000, "only {colourful} coloured pixels below the old bottom edge");

    // An atlas that is not a JPEG: the rest of the collection shows, and the page says which.
    let broken = site.join("broken");
    for rel in std::iter::once(pixfly_core::bundle::MANIFEST_FILE).chain(bundle.manifest.files()) {
        std::fs::create_dir_all(broken.join(rel).parent().unwrap()).unwrap();
        std::fs::copy(site.join("bundle").join(rel), broken.join(rel)).unwrap();
    }
    let atlas = &bundle.manifest.atlases[0].path;
    std::fs::write(broken.join(atlas), b"not a jpeg").unwrap();
    let (result, _) = visit(&format!("{}/?bundle=broken", server.url), "broken-atlas", &[]);
    assert_eq!(result["state"], "exploring", "{result}");
    let error = result["atlas_error"].as_str().unwrap_or_else(|| panic!("no atlas error: {result}"));
    assert!(error.contains(atlas.as_str()), "{error}");

    // Kiosk mode: the attract tour plays until a tap hands over.
    let (result, kiosk) = visit(&format!("{}/?kiosk=1&idle=60", server.url), "kiosk", &["--tap", "512,320"]);
    assert_eq!(
        (result["kiosk_before"].as_str(), result["kiosk"].as_str()),
        (Some("attract"), Some("exploring")),
        "{result}"
    );
    assert_eq!(result["console_errors"], serde_json::json!([]), "{result}");
    // The visitor's bar at the bottom left, and no panels (their text would be at the top left).
    let bright = |x0: u32, y0: u32, x1: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| kiosk.get_pixel(x, y).0.iter().all(|&c| c > 200))
            .count()
    };
    let (width, height) = kiosk.dimensions();
    assert!(bright(0, height * 86 / 100, width / 2, height) > 100, "no bar at the bottom");
    assert_eq!(bright(0, 0, 200, 60), 0, "the side panels are showing");
    // The site's bundle changes while a visitor explores: at the reset (5 s idle, 10 s of
    // countdown) the page loads again, on the new bundle, in attract mode.
    let tour = site.join("bundle/tour.json");
    let args = ["--tap", "512,320", "--change-after-tap", tour.to_str().unwrap()];
    let (result, _) = visit(&format!("{}/?kiosk=1&idle=5", server.url), "kiosk-update", &args);
    assert_eq!(result["kiosk_after_tap"], "exploring", "{result}");
    assert_eq!(
        (result["reloaded_at_reset"].as_bool(), result["kiosk"].as_str()),
        (Some(true), Some("attract")),
        "{result}"
    );
    assert_eq!(result["console_errors"], serde_json::json!([]), "{result}");

    // A bundle URL that leads nowhere: said in words on the page.
    let (result, _) = visit(&format!("{}/?bundle=no-such-bundle", server.url), "missing", &[]);
    assert_eq!(result["state"], "failed", "{result}");
    assert_eq!(result["status_visible"], true, "{result}");
    let text = result["status_text"].as_str().unwrap();
    assert!(text.contains("cannot be shown") && text.contains("no-such-bundle"), "{text}");
}
