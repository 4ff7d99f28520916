import { expect, test } from "@playwright/test";
import { HYDRATION_TIMEOUT, PALETTE, addDevice, minutesAgo, pixelsOfColor, post } from "./hearth";

// Each chart's first frame is drawn by the server (SVG in the page), so a chart shows before
// the browser has run any script; the canvas then takes its place without moving it.
test.describe("first frame", () => {
  let room: string;

  test.beforeAll(async ({ request }, info) => {
    const token = addDevice(`e2e-first-frame-${info.project.name}`);
    room = `Aa first ${info.project.name}`;
    const readings = Array.from({ length: 30 }, (_, i) => ({
      sensor: "frame.temp",
      kind: "temperature",
      room,
      value: 19 + Math.sin(i / 4),
      // Hours before the temperature spec's hour, so that neither line covers the other.
      at: minutesAgo(240 - i),
    }));
    expect(await post(request, token, readings)).toEqual({ stored: 30, duplicates: 0 });
  });

  test("without scripts, the chart is drawn by the server, in the series' colour", async ({ browser }, info) => {
    const { viewport, storageState, isMobile, hasTouch, deviceScaleFactor } = info.project.use;
    const context = await browser.newContext({ viewport, storageState, isMobile, hasTouch, deviceScaleFactor, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto("/temperature");
    const chart = page.locator(".chart", { has: page.getByRole("img", { name: "Temperature by room" }) });
    const frame = chart.locator(".first-frame svg:visible");
    await expect(frame).toHaveCount(1);
    const [r, g, b] = PALETTE[0];
    const hex = `#${[r, g, b].map((c) => c.toString(16).padStart(2, "0")).join("")}`.toUpperCase();
    await expect(frame.locator(`polyline[stroke="${hex}"]`).first()).toBeAttached();
    await expect(frame.locator("text", { hasText: "°C" }).first()).toBeAttached();
    const box = (await frame.boundingBox())!;
    const chartBox = (await chart.boundingBox())!;
    expect(box.width).toBeCloseTo(chartBox.width, 0);
    expect(box.height).toBeCloseTo(chartBox.height, 0);
    await context.close();
  });

  test("the canvas takes the frame's place without moving it", async ({ page }) => {
    await page.goto("/temperature");
    const canvas = page.getByRole("img", { name: "Temperature by room" });
    const chart = page.locator(".chart", { has: canvas });
    // Where the canvas sits in its chart: an alert banner arriving above moves the whole page,
    // which is not the chart's doing.
    const inChart = async () => {
      const [c, box] = [(await canvas.boundingBox())!, (await chart.boundingBox())!];
      return { x: c.x - box.x, y: c.y - box.y, width: c.width, height: c.height };
    };
    const before = await inChart();
    await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true", { timeout: HYDRATION_TIMEOUT });
    await expect.poll(() => pixelsOfColor(canvas, PALETTE[0])).toBeGreaterThan(50);
    await expect(chart.locator(".first-frame")).toBeHidden();
    expect(await inChart()).toEqual(before);
  });
});
