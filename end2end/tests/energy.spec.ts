import { expect, test } from "@playwright/test";
import { addDevice, canvasImage, minutesAgo, numberIn, openLive, pixelsOfColor, post } from "./hearth";

test.describe("electricity", () => {
  let token: string;
  let heater: string;
  let title: string;

  test.beforeAll(async ({ request }, info) => {
    const project = info.project.name;
    token = addDevice(`e2e-energy-${project}`);
    heater = `heater_${project}`;
    title = `Heater ${project}`;
    const day = 24 * 60;
    await post(request, token, [
      // A plug measuring a heater: power and its energy counter, 0.75 kWh used since.
      { sensor: `${heater}.power`, kind: "power", room: "Office", value: 0, at: minutesAgo(40) },
      { sensor: `${heater}.power`, value: 1500, at: minutesAgo(30) },
      { sensor: `${heater}.energy`, kind: "energy", room: "Office", value: 10, at: minutesAgo(31) },
      { sensor: `${heater}.energy`, value: 10.75, at: minutesAgo(1) },
      // A house meter with use nine and eight days ago: the previous period of the last week.
      { sensor: "house.energy", kind: "energy", value: 500, at: minutesAgo(9 * day) },
      { sensor: "house.energy", value: 507, at: minutesAgo(9 * day - 60) },
      { sensor: "house.energy", value: 512, at: minutesAgo(8 * day) },
      { sensor: "house.energy", value: 515, at: minutesAgo(1) },
    ]);
  });

  test("shows power, kWh per day and today's use by device", async ({ page }) => {
    const { errors } = await openLive(page, "/energy");
    await expect(page.getByRole("heading", { name: "Electricity", level: 1 })).toBeVisible();
    const part = page.getByTestId("breakdown").locator("li", { hasText: title });
    await expect(part).toContainText("0.75 kWh");
    await expect(page.getByTestId("breakdown").locator("li", { hasText: "Untracked" })).toBeVisible();

    const power = page.getByRole("img", { name: "Power drawn, by meter" });
    await expect.poll(async () => (await power.boundingBox())?.height ?? 0).toBeGreaterThan(150);
    await expect(page.locator(".key", { hasText: title })).toBeVisible();

    const bars = page.getByRole("img", { name: "Electricity used per day" });
    await expect.poll(() => pixelsOfColor(bars, [230, 97, 1]), { message: "today's bar is drawn" }).toBeGreaterThan(100);
    // Comparing draws the previous period's bars beside this period's.
    const grey: [number, number, number] = [196, 199, 204];
    const without = await pixelsOfColor(bars, grey, 12);
    await page.getByLabel("Compare with previous period").check();
    await expect.poll(() => pixelsOfColor(bars, grey, 12)).toBeGreaterThan(without + 100);
    await expect(page.locator(".key", { hasText: "Previous period" })).toBeVisible();
    expect(errors).toEqual([]);
  });

  test("today's use and the chart move with posted readings, without a reload", async ({ page, request }) => {
    const { notReloaded } = await openLive(page, "/energy");
    const part = page.getByTestId("breakdown").locator("li", { hasText: title });
    await expect(part).toContainText("0.75 kWh");
    const power = page.getByRole("img", { name: "Power drawn, by meter" });
    const before = await canvasImage(power);
    const all = page.getByTestId("breakdown").locator(".panel-head .muted");
    const allBefore = await numberIn(all);

    await post(request, token, [
      { sensor: `${heater}.energy`, value: 11.5 },
      { sensor: `${heater}.power`, value: 2000 },
      { sensor: "house.energy", value: 516 },
    ]);
    await expect(part).toContainText("1.50 kWh");
    await expect.poll(() => numberIn(all)).toBeCloseTo(allBefore + 1, 2);
    await expect.poll(() => canvasImage(power)).not.toBe(before);
    await notReloaded();
  });
});
