import { expect, test } from "@playwright/test";
import { PALETTE, addDevice, canvasImage, minutesAgo, numberIn, openLive, pixelsOfColor, post } from "./hearth";

test.describe("water", () => {
  let token: string;
  /** The device's water counter: what this file posted last. */
  let counter = 20_060;

  test.beforeAll(async ({ request }, info) => {
    token = addDevice(`e2e-water-${info.project.name}`);
    await post(request, token, [
      { sensor: "house.water", kind: "water", value: 20_000, at: minutesAgo(50) },
      { sensor: "house.water", value: counter, at: minutesAgo(20) },
      { sensor: "house.flow", kind: "flow", value: 0, at: minutesAgo(50) },
      { sensor: "house.flow", value: 8.5, at: minutesAgo(30) },
      { sensor: "house.flow", value: 0, at: minutesAgo(20) },
    ]);
  });

  test("shows litres per day, the flow and today's total", async ({ page }) => {
    const { errors } = await openLive(page, "/water");
    await expect(page.getByRole("heading", { name: "Water", level: 1 })).toBeVisible();
    await expect(page.getByTestId("water-today").locator(".big")).not.toHaveText(/–/);
    expect(await numberIn(page.getByTestId("water-today").locator(".big"))).toBeGreaterThanOrEqual(60);
    const bars = page.getByRole("img", { name: "Water used per day" });
    await expect.poll(() => pixelsOfColor(bars, [33, 102, 172]), { message: "today's bar is drawn" }).toBeGreaterThan(100);
    const flow = page.getByRole("img", { name: "Water flow" });
    // Each project's run adds a flow sensor with the same shape, each drawn over the one before
    // in the next colour (the first in PALETTE[1]): whichever is on top must show.
    const flowPixels = async () => {
      const counts = await Promise.all(PALETTE.slice(1).map((color) => pixelsOfColor(flow, color)));
      return counts.reduce((a, b) => a + b, 0);
    };
    await expect.poll(flowPixels, { message: "the flow line is drawn" }).toBeGreaterThan(20);
    expect(errors).toEqual([]);
  });

  test("each day's water cost stands beside the litres and moves with them; a day without a tariff shows none", async ({ page, request }) => {
    const before = (await (await request.get("/api/v1/tariffs")).json()).tariffs;
    const days = (await (await request.get("/api/v1/costs")).json()).days;
    const [yesterday, today] = days.slice(-2).map((d: { date: string }) => d.date);
    // A tariff from today only: water at 2.00 a m³.
    const put = (tariffs: unknown[]) => request.put("/api/v1/tariffs", { data: { tariffs }, headers: { "Sec-Fetch-Site": "same-origin" } });
    expect((await put([{ from: today, currency: "EUR", import: { price: 0.25 }, water: { price_per_m3: 2.0 } }])).status()).toBe(200);
    try {
      const { notReloaded } = await openLive(page, "/water");
      const api = (await (await request.get("/api/v1/costs")).json()).days.find((d: { date: string }) => d.date === today);
      expect(api.water_cost).toBeCloseTo((api.water_l / 1000) * 2.0, 9);
      expect(api.water_l).toBeGreaterThanOrEqual(60);
      const table = page.getByTestId("water-costs");
      await expect(table.locator(`tr[data-date="${today}"] [data-cost="water"]`)).toHaveText(`€${api.water_cost.toFixed(2)}`);
      await expect(table.locator(`tr[data-date="${today}"] td`).nth(1)).toHaveText(api.water_l.toFixed(0));
      await expect(table.locator(`tr[data-date="${yesterday}"] [data-cost="water"]`)).toHaveText("–");

      // 40 L more on this device's meter: today's row moves without a reload, priced by today's tariff.
      counter += 40;
      await post(request, token, [{ sensor: "house.water", value: counter }]);
      const litres = api.water_l + 40;
      await expect(table.locator(`tr[data-date="${today}"] td`).nth(1)).toHaveText(litres.toFixed(0));
      await expect(table.locator(`tr[data-date="${today}"] [data-cost="water"]`)).toHaveText(`€${((litres / 1000) * 2.0).toFixed(2)}`);
      const moved = (await (await request.get("/api/v1/costs")).json()).days.find((d: { date: string }) => d.date === today);
      expect(moved.water_l).toBeCloseTo(litres, 6);
      await notReloaded();
    } finally {
      expect((await put(before)).status()).toBe(200);
    }
  });

  test("today's total and the flow move with posted readings", async ({ page, request }) => {
    const { notReloaded } = await openLive(page, "/water");
    const today = page.getByTestId("water-today").locator(".big");
    await expect(today).not.toHaveText(/–/);
    const before = await numberIn(today);
    const flow = page.getByRole("img", { name: "Water flow" });
    const picture = await canvasImage(flow);

    counter += 25;
    await post(request, token, [
      { sensor: "house.water", value: counter },
      { sensor: "house.flow", value: 12 },
    ]);
    await expect.poll(() => numberIn(today)).toBe(before + 25);
    await expect(page.getByTestId("flow-now")).toContainText("12.0");
    await expect(page.getByTestId("flow-now")).toContainText("water is running");
    await expect.poll(() => canvasImage(flow)).not.toBe(picture);
    await notReloaded();
    // The tap closes again (so the next run of this spec starts from no flow).
    await post(request, token, [{ sensor: "house.flow", value: 0 }]);
    await expect(page.getByTestId("flow-now")).not.toContainText("water is running");
  });
});
