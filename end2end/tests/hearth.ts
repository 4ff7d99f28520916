// What the specs share: registering devices with the real CLI, posting readings through the
// real ingest API, and looking at canvases the way a person would (their pixels).
import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, type APIRequestContext, type Locator, type Page } from "@playwright/test";
import { hearthEnv } from "../playwright.config";

const root = path.resolve(__dirname, "../..");

/** Registers a device named after `name` (made unique, so a retried spec gets a new one) with
 * `hearth device add`, against the server's database; returns its token. */
export function addDevice(name: string): string {
  const out = execFileSync(path.join(root, "target/debug/hearth"), ["device", "add", `${name}-${Date.now().toString(36)}`], {
    cwd: root,
    env: { ...process.env, ...hearthEnv },
    encoding: "utf8",
  });
  return out.trim();
}

/** A reading as the ingest API takes it. */
export type Reading = { sensor: string; value: number; kind?: string; room?: string; at?: string | number };

/** Posts readings as a device and expects them all stored. */
export async function post(request: APIRequestContext, token: string, readings: Reading[]) {
  const response = await request.post("/api/v1/readings", {
    headers: { Authorization: `Bearer ${token}` },
    data: { readings },
  });
  expect(response.status(), await response.text()).toBe(200);
  return response.json();
}

/** An instant `minutes` before now, RFC 3339. */
export function minutesAgo(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString();
}

/** A name unique to this test run and project, so specs of the desktop and phone runs don't meet. */
export function unique(base: string, project: string): string {
  return `${base}_${project}_${Date.now().toString(36)}`;
}

/** How many pixels of a canvas are close to an RGB colour (drawn data, not the background). */
export async function pixelsOfColor(canvas: Locator, rgb: [number, number, number], tolerance = 40): Promise<number> {
  return canvas.evaluate(
    (c: HTMLCanvasElement, [r, g, b, t]) => {
      const { data } = c.getContext("2d")!.getImageData(0, 0, c.width, c.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 200 && Math.abs(data[i] - r) < t && Math.abs(data[i + 1] - g) < t && Math.abs(data[i + 2] - b) < t) n++;
      }
      return n;
    },
    [...rgb, tolerance],
  );
}

/** The canvas's picture, to see that it changed. */
export async function canvasImage(canvas: Locator): Promise<string> {
  return canvas.evaluate((c: HTMLCanvasElement) => c.toDataURL());
}

/** The palette's first colours, as the charts draw them. */
export const PALETTE: [number, number, number][] = [
  [230, 97, 1],
  [33, 102, 172],
  [26, 152, 80],
  [152, 78, 163],
];

/** How long a page may take to hydrate: the debug WASM on a loaded 2-core machine (another
 * build beside the tests) takes several seconds, a person would wait that long too. */
export const HYDRATION_TIMEOUT = 60_000;

/** Waits until the page is hydrated (the app marks `main` once its effects run). */
export async function hydrated(page: Page, scope = "main") {
  await expect(page.locator(scope).first()).toHaveAttribute("data-hydrated", "true", { timeout: HYDRATION_TIMEOUT });
}

/** Opens a page, waits for the live stream, and marks the window so a reload would show. */
export async function openLive(page: Page, url: string) {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(url);
  await hydrated(page);
  await expect(page.locator("[data-live]")).toHaveAttribute("data-live", "open", { timeout: HYDRATION_TIMEOUT });
  await page.evaluate(() => ((window as any).__notReloaded = true));
  return {
    errors,
    /** Fails if the page was reloaded since it was opened. */
    async notReloaded() {
      expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
    },
  };
}

/** A number shown in an element's text (the first one). */
export async function numberIn(locator: Locator): Promise<number> {
  const text = (await locator.textContent()) ?? "";
  const match = text.replace(/,/g, "").match(/-?\d+(\.\d+)?/);
  expect(match, `a number in ${JSON.stringify(text)}`).not.toBeNull();
  return Number(match![0]);
}
