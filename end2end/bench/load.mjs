// Page loads of the chart views as a person on a phone or a desktop gets them, in Debian's
// Chromium: the first pixel of the first chart (the server's SVG frame or the canvas, whichever
// shows first), hydration (`main[data-hydrated="true"]`), bytes by kind, with an empty cache
// (a fresh browser context) and then warm (the same context again). Not a test: it prints a
// Markdown table for BENCHMARKS.md and writes every run to $OUT/load.json.
//
//   cd end2end && HEARTH_URL=http://127.0.0.1:3000 HEARTH_PASSWORD=... node bench/load.mjs [/ /energy ...]
//
// Environment: HEARTH_URL (http://127.0.0.1:3000), HEARTH_NAME (demo), HEARTH_PASSWORD,
// RUNS (5), PROFILES (phone,desktop), OUT (bench-results), CHROMIUM (/usr/bin/chromium).
// Phone: 390x844 CSS px at 3x, touch; CPU slowed 4x and 1.6 Mbit/s down, 750 kbit/s up, 150 ms
// round trips (CDP Emulation.setCPUThrottlingRate, Network.emulateNetworkConditions).
// Desktop: 1280x800 at 1x, no throttling.
import { chromium } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";

const BASE = (process.env.HEARTH_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const RUNS = Number(process.env.RUNS ?? 5);
const OUT = path.resolve(process.env.OUT ?? "bench-results");
const PAGES = process.argv.slice(2).length ? process.argv.slice(2) : ["/", "/temperature", "/energy", "/water", "/appliances"];
const PROFILES = {
  phone: {
    context: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true },
    cpu: 4,
    network: { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 },
  },
  desktop: { context: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 }, cpu: 1, network: null },
};
const WHICH = (process.env.PROFILES ?? "phone,desktop").split(",");

// Runs in the page before its own scripts: records in window.__bench the first animation frame
// (performance.now(), ms since navigation start) at which a chart shows something: its
// server-drawn SVG laid out with a size, or its canvas with a non-blank pixel; and when the
// page is hydrated.
const PROBE = `(() => {
  const B = window.__bench = { svg: null, canvas: null, hydrated: null };
  const visibleSvg = () => {
    for (const s of document.querySelectorAll('.chart .first-frame svg')) {
      const r = s.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && s.childElementCount > 0) return true;
    }
    return false;
  };
  const drawnCanvas = () => {
    for (const c of document.querySelectorAll('.chart canvas')) {
      if (c.width === 300 && c.height === 150) continue;
      const d = new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.buffer);
      for (let i = 0; i < d.length; i += 7) if (d[i] !== 0) return true;
    }
    return false;
  };
  const t0 = performance.now();
  (function poll() {
    const t = performance.now();
    if (B.svg == null && visibleSvg()) B.svg = t;
    if (B.canvas == null && drawnCanvas()) B.canvas = t;
    if (B.hydrated == null && document.querySelector('main[data-hydrated="true"]')) B.hydrated = t;
    if ((B.canvas == null || B.hydrated == null) && t - t0 < 60000) requestAnimationFrame(poll);
  })();
})();`;

function kind(url, type) {
  const p = new URL(url).pathname;
  if (p.startsWith("/api/v1/stream")) return "stream";
  if (type === "Document") return "html";
  if (p.endsWith(".wasm")) return "wasm";
  if (p.endsWith(".js")) return "js";
  if (p.endsWith(".css")) return "css";
  return "other";
}

async function login(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/login`);
  await page.waitForSelector('main[data-hydrated="true"]', { timeout: 60_000 });
  await page.fill("input[name=name]", process.env.HEARTH_NAME ?? "demo");
  await page.fill("input[name=password]", process.env.HEARTH_PASSWORD ?? "");
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 60_000 }), page.click("button[type=submit]")]);
  const state = await context.storageState();
  await context.close();
  return state;
}

async function load(page, cdp, url) {
  const bytes = { html: 0, css: 0, js: 0, wasm: 0, other: 0 };
  const types = new Map();
  const onSent = (e) => types.set(e.requestId, [e.request.url, e.type]);
  const onDone = (e) => {
    const [u, t] = types.get(e.requestId) ?? [];
    if (u && kind(u, t) !== "stream") bytes[kind(u, t)] += e.encodedDataLength;
  };
  cdp.on("Network.requestWillBeSent", onSent);
  cdp.on("Network.loadingFinished", onDone);
  await page.goto(url, { waitUntil: "commit", timeout: 90_000 });
  await page.waitForFunction(() => window.__bench && window.__bench.canvas != null && window.__bench.hydrated != null, null, { timeout: 90_000, polling: 200 });
  // The paint that showed the chart, when the SVG was there at the first contentful paint.
  const r = await page.evaluate(() => {
    const fcp = performance.getEntriesByType("paint").find((p) => p.name === "first-contentful-paint");
    return { ...window.__bench, fcp: fcp ? fcp.startTime : null };
  });
  cdp.off("Network.requestWillBeSent", onSent);
  cdp.off("Network.loadingFinished", onDone);
  const firstFrame = r.svg == null ? null : Math.max(r.svg, r.fcp ?? 0);
  const pixel = Math.min(firstFrame ?? Infinity, r.canvas ?? Infinity);
  return { pixel, svg: firstFrame, canvas: r.canvas, hydrated: r.hydrated, bytes };
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};
const range = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? `${Math.round(s[0])}–${Math.round(s[s.length - 1])}` : "–";
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const storageState = await login(browser);
const results = [];
for (const name of WHICH) {
  const profile = PROFILES[name];
  for (const p of PAGES) {
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ ...profile.context, storageState });
      await context.addInitScript(PROBE);
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      if (profile.cpu > 1) await cdp.send("Emulation.setCPUThrottlingRate", { rate: profile.cpu });
      if (profile.network) await cdp.send("Network.emulateNetworkConditions", profile.network);
      for (const cache of ["cold", "warm"]) {
        const r = await load(page, cdp, BASE + p);
        results.push({ profile: name, page: p, run, cache, ...r });
        console.error(`${name} ${p} ${cache} #${run}: pixel ${Math.round(r.pixel)} ms (svg ${Math.round(r.svg)}, canvas ${Math.round(r.canvas)}), hydrated ${Math.round(r.hydrated)} ms, ${JSON.stringify(r.bytes)}`);
      }
      await context.close();
    }
  }
}
await browser.close();
fs.mkdirSync(OUT, { recursive: true });
fs.writeFileSync(path.join(OUT, "load.json"), JSON.stringify({ base: BASE, runs: RUNS, at: new Date().toISOString(), results }, null, 1));

console.log("| profile | view | cache | first chart pixel, median (range) ms | canvas drawn ms | hydrated, median (range) ms | KiB on the wire (html / css / js / wasm) |");
console.log("|---|---|---|---|---|---|---|");
for (const name of WHICH) {
  for (const p of PAGES) {
    for (const cache of ["cold", "warm"]) {
      const rs = results.filter((r) => r.profile === name && r.page === p && r.cache === cache);
      const kib = (k) => (median(rs.map((r) => r.bytes[k])) / 1024).toFixed(1);
      console.log(
        `| ${name} | \`${p}\` | ${cache} | ${Math.round(median(rs.map((r) => r.pixel)))} (${range(rs.map((r) => r.pixel))}) | ${Math.round(median(rs.map((r) => r.canvas)))} | ${Math.round(median(rs.map((r) => r.hydrated)))} (${range(rs.map((r) => r.hydrated))}) | ${kib("html")} / ${kib("css")} / ${kib("js")} / ${kib("wasm")} |`,
      );
    }
  }
}
