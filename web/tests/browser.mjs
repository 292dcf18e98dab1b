// Open a pixfly page in Debian's Chromium (playwright-core, no browser download), wait until the
// viewer has shown the collection (or failed, or an atlas has), optionally click, and take a
// screenshot.
// Prints what happened as JSON on stdout; tests/web.rs judges it.
//
//   node web/tests/browser.mjs URL OUT.png [--click X,Y | --tap X,Y] [--lose-context]
//                                          [--size WxH] [--resize WxH] [--frames N] [--webgpu]
//                                          [--timeline] [--change-after-tap FILE]
//
// --webgpu gives the browser WebGPU (on SwiftShader's Vulkan), so the page loads its WebGPU
// build; without it the browser offers no WebGPU adapter here and the page uses WebGL2.
// --tap touches the screen instead of clicking; --lose-context makes WebGL lose its context
// or WebGPU its device (as a driver reset does) and waits for the page to come back; --resize
// changes the window's size once the collection is shown; --frames N times N frames once
// everything is shown (the web benchmark); --timeline reports when each step of loading ended
// (ms since navigation: the page's marks, each request, each change of the viewer's state);
// --change-after-tap (a kiosk page) changes FILE after the tap and waits for the page to load
// again at the kiosk's reset.
import { chromium } from "playwright-core";

const [url, out, ...rest] = process.argv.slice(2);
const option = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const [width, height] = (option("--size") || "1024x640").split("x").map(Number);
const click = option("--click")?.split(",").map(Number);
const tap = option("--tap")?.split(",").map(Number);
const loseContext = rest.includes("--lose-context");
const resize = option("--resize")?.split("x").map(Number);
const timedFrames = Number(option("--frames") || 0);
const webgpu = rest.includes("--webgpu");
const timeline = rest.includes("--timeline");
const changeAfterTap = option("--change-after-tap");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // WebGL2 without a GPU: ANGLE on SwiftShader.
  args: [
    "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
    "--no-sandbox", "--disable-gpu-sandbox", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    // WebGPU on SwiftShader's Vulkan; without Vulkan enabled, Dawn lost the device after two frames.
    ...(webgpu ? ["--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader",
      "--use-webgpu-adapter=swiftshader"] : []),
  ],
});
const result = { console_errors: [], page_errors: [] };
// Reported when the page never finishes: its last log lines, and the requests still open
// (a request the server never answered stalls an atlas).
const consoleTail = [];
const unanswered = new Map();
let page;
try {
  page = await browser.newPage({ viewport: { width, height }, hasTouch: Boolean(tap) });
  // Bevy logs its errors through console.log, styled: "%cERROR%c …".
  page.on("console", (m) => {
    consoleTail.push(m.text());
    if (consoleTail.length > 40) consoleTail.shift();
    if (m.type() === "error" || m.text().startsWith("%cERROR")) result.console_errors.push(m.text());
  });
  page.on("request", (r) => unanswered.set(r, "sent"));
  page.on("response", (r) => unanswered.set(r.request(), `headers ${r.status()}`));
  page.on("requestfinished", (r) => unanswered.delete(r));
  page.on("requestfailed", (r) => unanswered.set(r, `failed: ${r.failure()?.errorText}`));
  page.on("pageerror", (e) => result.page_errors.push(String(e)));
  // The viewer's state changes, timed in the page (from navigation): polling from here would
  // only see them once the page's thread is free, which it is not while atlases decode.
  await page.addInitScript(() => {
    window.pixflyStates = [];
    new MutationObserver((changes) => {
      for (const { attributeName: name, target } of changes) {
        window.pixflyStates.push([Math.round(performance.now()), name, target.getAttribute(name)]);
      }
    // The root element doesn't exist yet when this runs: watch the whole document.
    }).observe(document, { subtree: true, attributeFilter: ["data-pixfly-state", "data-pixfly-atlases"] });
    // Tasks that kept the page's thread from answering for over 50 ms (the page feels stuck).
    window.pixflyLongTasks = [];
    new PerformanceObserver((list) => window.pixflyLongTasks.push(...list.getEntries().map((e) => [e.startTime, e.duration])))
      .observe({ type: "longtask" });
  });
  const started = Date.now();
  await page.goto(url);
  // Shown: exploring with every atlas in (or one that never will be); or failed.
  const shown = () => page.waitForFunction(() => {
    const root = document.documentElement;
    const state = root.dataset.pixflyState;
    const [loaded, total] = (root.dataset.pixflyAtlases || "0/1").split("/").map(Number);
    return state === "failed" || (state === "exploring" && (loaded === total || root.dataset.pixflyAtlasError));
  }, null, { timeout: 120000, polling: 50 });
  await shown();
  result.ready_ms = Date.now() - started;
  // In page time: the first atlas drawn (the first frame with images), and the last.
  const states = await page.evaluate(() => window.pixflyStates);
  const atlasTimes = states.filter(([, name, value]) => name === "data-pixfly-atlases" && parseInt(value) > 0);
  result.first_images_ms = atlasTimes[0]?.[0] ?? null;
  result.complete_ms = atlasTimes.find(([, , value]) => value.split("/")[0] === value.split("/")[1])?.[0] ?? null;
  // The longest time the page could not answer between the viewer's start and the last atlas.
  const tasks = await page.evaluate(() => window.pixflyLongTasks);
  const loading = states.find(([, name]) => name === "data-pixfly-state")?.[0] ?? 0;
  result.longest_task_while_loading_ms = Math.round(Math.max(0, ...tasks
    .filter(([start]) => start >= loading && start <= (result.complete_ms ?? Infinity)).map(([, d]) => d)));
  // Let the frames with the last atlases reach the screen.
  const frames = (n) => page.evaluate((n) => new Promise((done) => {
    const step = () => (n-- > 0 ? requestAnimationFrame(step) : done());
    step();
  }), n);
  await frames(5);
  if (timedFrames) {
    result.frame_ms = await page.evaluate((n) => new Promise((done) => {
      const times = [];
      const step = (t) => {
        times.push(t);
        if (times.length > n) done(times.slice(1).map((t, i) => t - times[i]));
        else requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    }), timedFrames);
  }
  if (loseContext) {
    await Promise.all([
      page.waitForEvent("load"),
      page.evaluate(() => window.pixflyGpuDevice ? window.pixflyGpuDevice.destroy()
        : document.getElementById("pixfly").getContext("webgl2").getExtension("WEBGL_lose_context").loseContext()),
    ]);
    await shown();
    await frames(5);
    result.reloaded = true;
  }
  if (resize) {
    await page.setViewportSize({ width: resize[0], height: resize[1] });
    await frames(10);
  }
  // A kiosk page (?kiosk=1) says what it is doing: attract, exploring or countdown.
  result.kiosk_before = await page.evaluate(() => document.documentElement.dataset.pixflyKiosk || null);
  if (click || tap) {
    if (click) await page.mouse.click(click[0], click[1]);
    else await page.touchscreen.tap(tap[0], tap[1]);
    // The click selects; let the detail panel open and the thumbnail arrive.
    await frames(5);
    await page.waitForTimeout(1500);
    await frames(5);
  }
  if (changeAfterTap) {
    // A curator's update while a visitor explores: the kiosk page takes it up at its next reset.
    result.kiosk_after_tap = await page.evaluate(() => document.documentElement.dataset.pixflyKiosk || null);
    (await import("node:fs")).appendFileSync(changeAfterTap, "\n");
    await page.waitForEvent("load", { timeout: 90000 });
    await shown();
    await frames(5);
    result.reloaded_at_reset = true;
  }
  if (timeline) {
    result.timeline = await page.evaluate(() => [
      ...performance.getEntriesByType("mark").map((m) => [Math.round(m.startTime), m.name]),
      ...performance.getEntriesByType("resource").map((r) =>
        [Math.round(r.responseEnd), `loaded ${new URL(r.name).pathname} (started ${Math.round(r.startTime)})`]),
      ...window.pixflyStates.map(([time, name, value]) => [time, `${name}=${value}`]),
    ].sort((a, b) => a[0] - b[0]));
  }
  result.state = await page.evaluate(() => document.documentElement.dataset.pixflyState);
  result.kiosk = await page.evaluate(() => document.documentElement.dataset.pixflyKiosk || null);
  result.atlases = await page.evaluate(() => document.documentElement.dataset.pixflyAtlases || null);
  result.atlas_error = await page.evaluate(() => document.documentElement.dataset.pixflyAtlasError || null);
  result.graphics_api = await page.evaluate(() => document.documentElement.dataset.pixflyRenderer || null);
  result.status_visible = await page.isVisible("#status");
  result.status_text = await page.textContent("#message");
  result.url = page.url();
  result.canvas = await page.evaluate(() => {
    const canvas = document.getElementById("pixfly");
    return [canvas.width, canvas.height];
  });
  result.renderer = await page.evaluate(() => {
    const gl = document.createElement("canvas").getContext("webgl2");
    const info = gl && gl.getExtension("WEBGL_debug_renderer_info");
    return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : null;
  });
  await page.screenshot({ path: out });
} catch (error) {
  result.error = String(error);
  // Where it got stuck, for the message.
  result.state = await page?.evaluate(() => document.documentElement.dataset.pixflyState).catch(() => null);
  result.atlases = await page?.evaluate(() => document.documentElement.dataset.pixflyAtlases).catch(() => null);
  result.status_text = await page?.textContent("#message").catch(() => null);
  result.console_tail = consoleTail;
  result.unanswered = [...unanswered].map(([request, state]) => `${request.url()} ${state}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
