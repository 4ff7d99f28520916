import { expect, test } from "@playwright/test";
import { addDevice, canvasImage, minutesAgo, numberIn, openLive, pixelsOfColor, post } from "./hearth";

test.describe("water", () => {
  let token: string;

  test.beforeAll(async ({ request }, info) => {
    token = addDevice(`e2e-water-${info.project.name}`);
    await post(request, token, [
      { sensor: "house.water", kind: "water", value: 20_000, at: minutesAgo(50) },
      { sensor: "house.water", value: 20_060, at: minutesAgo(20) },
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
    await expect.poll(() => pixelsOfColor(flow, [33, 102, 172]), { message: "the flow line is drawn" }).toBeGreaterThan(20);
    expect(errors).toEqual([]);
  });

  test("today's total and the flow move with posted readings", async ({ page, request }) => {
    const { notReloaded } = await openLive(page, "/water");
    const today = page.getByTestId("water-today").locator(".big");
    await expect(today).not.toHaveText(/–/);
    const before = await numberIn(today);
    const flow = page.getByRole("img", { name: "Water flow" });
    const picture = await canvasImage(flow);

    await post(request, token, [
      { sensor: "house.water", value: 20_085 },
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
