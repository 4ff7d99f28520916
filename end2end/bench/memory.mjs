// The server's memory under page traffic: loads every chart view and the other pages LOADS
// times over HTTP (the page as the browser gets it, rendered on the server, and the live stream
// opened and closed as a page does), CONCURRENCY at a time, and prints the server's RSS (from
// /proc) every 100 loads of each view. Not a test: its figures go into BENCHMARKS.md.
//
//   cd end2end && HEARTH_URL=http://127.0.0.1:3000 HEARTH_PASSWORD=... HEARTH_PID=<pid> node bench/memory.mjs
//
// Environment: HEARTH_URL, HEARTH_NAME (demo), HEARTH_PASSWORD, HEARTH_PID (the server's
// process id), LOADS (1000 per view), CONCURRENCY (4).
import fs from "node:fs";

const BASE = (process.env.HEARTH_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const LOADS = Number(process.env.LOADS ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);
const PID = process.env.HEARTH_PID;
const VIEWS = ["/", "/temperature", "/energy", "/water", "/appliances", "/devices", "/alerts"];
const RANGES = ["", "?range=1h", "?range=7d", "?range=30d"];

function rssMiB() {
  const status = fs.readFileSync(`/proc/${PID}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

const form = new URLSearchParams({ name: process.env.HEARTH_NAME ?? "demo", password: process.env.HEARTH_PASSWORD ?? "" });
const login = await fetch(`${BASE}/api/public/login`, { method: "POST", body: form, redirect: "manual" });
const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
if (!cookie.startsWith("hearth_session=")) throw new Error(`login failed: ${login.status} ${await login.text()}`);
const headers = { cookie, "accept-encoding": "br, gzip" };

async function load(url) {
  const page = await fetch(url, { headers });
  if (page.status !== 200) throw new Error(`${url}: ${page.status}`);
  await page.arrayBuffer();
  // A page opens the live stream, and drops it when the person goes on to the next page.
  const stream = new AbortController();
  const events = await fetch(`${BASE}/api/v1/stream`, { headers, signal: stream.signal });
  const reader = events.body.getReader();
  await reader.read();
  stream.abort();
  await reader.closed.catch(() => {});
}

console.log(`| loads of each view | RSS MiB |`);
console.log(`|---|---|`);
console.log(`| 0 | ${rssMiB().toFixed(1)} |`);
const t0 = Date.now();
for (let done = 0; done < LOADS; ) {
  const batch = Math.min(100, LOADS - done);
  const urls = [];
  for (let i = 0; i < batch; i++) for (const v of VIEWS) urls.push(BASE + v + (v === "/" || v === "/devices" || v === "/alerts" ? "" : RANGES[(done + i) % RANGES.length]));
  for (let i = 0; i < urls.length; i += CONCURRENCY) await Promise.all(urls.slice(i, i + CONCURRENCY).map(load));
  done += batch;
  console.log(`| ${done} | ${rssMiB().toFixed(1)} |`);
}
console.error(`${LOADS * VIEWS.length} page loads in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
