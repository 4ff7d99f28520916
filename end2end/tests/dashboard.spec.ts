import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { hearthEnv } from "../playwright.config";

const root = path.resolve(__dirname, "../..");

/** Registers a device with the real CLI, against the server's database, and returns its token. */
function addDevice(name: string): string {
  const out = execFileSync(path.join(root, "target/debug/hearth"), ["device", "add", name], {
    cwd: root,
    env: { ...process.env, ...hearthEnv },
    encoding: "utf8",
  });
  return out.trim();
}

/** How many canvas pixels are close to an RGB colour: the chart's lines, not its background. */
async function pixelsOfColor(page: Page, rgb: [number, number, number]): Promise<number> {
  return page.locator("canvas").evaluate((canvas: HTMLCanvasElement, [r, g, b]) => {
    const ctx = canvas.getContext("2d")!;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 200 && Math.abs(data[i] - r) < 40 && Math.abs(data[i + 1] - g) < 40 && Math.abs(data[i + 2] - b) < 40) n++;
    }
    return n;
  }, rgb);
}

async function canvasHash(page: Page): Promise<string> {
  return page.locator("canvas").evaluate((canvas: HTMLCanvasElement) => canvas.toDataURL());
}

test.describe("dashboard", () => {
  let token: string;
  let room: string;

  test.beforeAll(async ({ request }, info) => {
    token = addDevice(`e2e-${info.project.name}`);
    // A room name that sorts first, so its line gets the first palette colour.
    room = `Aa ${info.project.name}`;
    const now = Date.now();
    const readings = Array.from({ length: 60 }, (_, i) => ({
      sensor: "room.temp",
      kind: "temperature",
      room,
      value: 20 + Math.sin(i / 6),
      at: new Date(now - (60 - i) * 60_000).toISOString(),
    }));
    readings[readings.length - 1].value = 20.4;
    const response = await request.post("/api/v1/readings", {
      headers: { Authorization: `Bearer ${token}` },
      data: { readings },
    });
    expect(response.status()).toBe(200);
    expect(await response.json()).toEqual({ stored: 60, duplicates: 0 });
  });

  test("shows the history as a drawn chart and each sensor's latest value", async ({ page }) => {
    const errors: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.goto("/");
    await expect(page.getByRole("heading", { name: "Temperature" })).toBeVisible();
    const card = page.locator(".latest li", { hasText: room });
    await expect(card).toContainText("20.4 °C");
    await expect(page.locator("[data-live]")).toHaveAttribute("data-live", "open");
    await expect.poll(() => pixelsOfColor(page, [230, 97, 1]), { message: "the line is drawn in its colour" }).toBeGreaterThan(100);
    // Axis labels are drawn too: there are dark text pixels besides the line.
    await expect.poll(() => pixelsOfColor(page, [60, 64, 72])).toBeGreaterThan(50);
    expect(errors).toEqual([]);
  });

  test("a posted reading shows up live, without a reload", async ({ page, request }) => {
    await page.goto("/");
    await expect(page.locator("[data-live]")).toHaveAttribute("data-live", "open");
    await page.evaluate(() => ((window as any).__notReloaded = true));
    const card = page.locator(".latest li", { hasText: room });
    await expect(card).toContainText("20.4 °C");
    await expect.poll(() => pixelsOfColor(page, [230, 97, 1])).toBeGreaterThan(100);
    const before = await canvasHash(page);

    const posted = await request.post("/api/v1/readings", {
      headers: { Authorization: `Bearer ${token}` },
      data: { sensor: "room.temp", value: 27.3 },
    });
    expect(posted.status()).toBe(200);
    await expect(card).toContainText("27.3 °C", { timeout: 1_000 });
    await expect.poll(() => canvasHash(page), { timeout: 2_000 }).not.toBe(before);

    // A sensor the page has never seen joins the chart and the list.
    const attic = `Attic ${test.info().project.name}`;
    const created = await request.post("/api/v1/readings", {
      headers: { Authorization: `Bearer ${token}` },
      data: { sensor: "attic.temp", kind: "temperature", room: attic, value: 9.8 },
    });
    expect(created.status()).toBe(200);
    await expect(page.locator(".latest li", { hasText: attic })).toContainText("9.8 °C");
    expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
  });
});
