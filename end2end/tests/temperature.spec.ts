import { expect, test } from "@playwright/test";
import { PALETTE, addDevice, canvasImage, minutesAgo, openLive, pixelsOfColor, post } from "./hearth";

test.describe("temperature", () => {
  let token: string;
  let room: string;

  test.beforeAll(async ({ request }, info) => {
    token = addDevice(`e2e-temperature-${info.project.name}`);
    // A room name that sorts first, so its line gets the first palette colour.
    room = `Aa ${info.project.name}`;
    const readings = Array.from({ length: 60 }, (_, i) => ({
      sensor: "room.temp",
      kind: "temperature",
      room,
      value: 20 + Math.sin(i / 6),
      at: minutesAgo(60 - i),
    }));
    readings[readings.length - 1].value = 20.4;
    readings.push({ sensor: "room.humidity", kind: "humidity", room, value: 48, at: minutesAgo(1) });
    expect(await post(request, token, readings)).toEqual({ stored: 61, duplicates: 0 });
  });

  test("draws each room's line with its latest value and today's range", async ({ page }) => {
    const { errors } = await openLive(page, "/temperature");
    await expect(page.getByRole("heading", { name: "Temperature", level: 1 })).toBeVisible();
    const legend = page.locator(".legend li", { hasText: room }).first();
    await expect(legend).toContainText("20.4 °C");
    await expect(legend).toContainText(/today \d+\.\d–\d+\.\d °C/);
    const chart = page.getByRole("img", { name: "Temperature by room" });
    await expect.poll(() => pixelsOfColor(chart, PALETTE[0]), { message: "the line is drawn in its colour" }).toBeGreaterThan(100);
    await expect.poll(() => pixelsOfColor(chart, [60, 64, 72]), { message: "axis labels are drawn" }).toBeGreaterThan(50);
    await expect(page.locator(".legend li", { hasText: room }).nth(1)).toContainText("48 %");
    expect(errors).toEqual([]);
  });

  test("a posted reading moves the value and the line live; a new room joins", async ({ page, request }) => {
    const { notReloaded } = await openLive(page, "/temperature");
    const chart = page.getByRole("img", { name: "Temperature by room" });
    const legend = page.locator(".legend li", { hasText: room }).first();
    await expect(legend).toContainText("20.4 °C");
    await expect.poll(() => pixelsOfColor(chart, PALETTE[0])).toBeGreaterThan(100);
    const before = await canvasImage(chart);

    await post(request, token, [{ sensor: "room.temp", value: 27.3 }]);
    await expect(legend).toContainText("27.3 °C");
    await expect(legend).toContainText("–27.3 °C");
    await expect.poll(() => canvasImage(chart)).not.toBe(before);

    const attic = `Attic ${test.info().project.name}`;
    await post(request, token, [{ sensor: "attic.temp", kind: "temperature", room: attic, value: 9.8 }]);
    await expect(page.locator(".legend li", { hasText: attic })).toContainText("9.8 °C");
    await notReloaded();
  });

  test("each room's CO2 stands beside its temperature, worded and coloured as on the Overview, and moves live", async ({ page, request }) => {
    await post(request, token, [{ sensor: "room.co2", kind: "co2", room, value: 950 }]);
    const { notReloaded } = await openLive(page, "/temperature");
    const legend = page.locator(".legend li", { hasText: room }).first();
    const air = legend.locator(".co2");
    await expect(air).toHaveText("CO2 950 ppm · stuffy: open a window");
    await expect(air).toHaveClass("co2 stuffy");
    await expect(air).toHaveCSS("color", "rgb(181, 77, 0)");
    await post(request, token, [{ sensor: "room.co2", value: 1320 }]);
    await expect(air).toHaveText("CO2 1320 ppm · poor air: air the room now");
    await expect(air).toHaveClass("co2 poor");
    await expect(air).toHaveCSS("color", "rgb(215, 48, 39)");
    await notReloaded();
    // The Overview's room card says the same.
    await openLive(page, "/");
    await expect(page.locator(`.card.room[data-room="${room}"] .co2`)).toHaveText("CO2 1320 ppm · poor air: air the room now");
    await expect(page.locator(`.card.room[data-room="${room}"] .co2`)).toHaveClass("sub co2 poor");
    // The same red as on Temperature, not the card's grey.
    await expect(page.locator(`.card.room[data-room="${room}"] .co2`)).toHaveCSS("color", "rgb(215, 48, 39)");
  });

  test("the pointer shows the exact value and time; ranges and zoom change the URL", async ({ page }) => {
    await openLive(page, "/temperature?range=1h");
    const chart = page.getByRole("img", { name: "Temperature by room" });
    await expect.poll(() => pixelsOfColor(chart, PALETTE[0])).toBeGreaterThan(50);
    const box = (await chart.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
    const tip = page.locator(".tip");
    await expect(tip).toBeVisible();
    await expect(tip).toContainText(room);
    await expect(tip).toContainText(/\d{2}:\d{2}:\d{2}/);
    await expect(tip).toContainText(/\d+\.\d °C/);

    const hour = await canvasImage(chart);
    await Promise.all([
      page.waitForResponse((r) => r.url().includes("load_climate")),
      page.getByRole("link", { name: "7d" }).click(),
    ]);
    await expect(page).toHaveURL(/range=7d/);
    await expect(page.getByRole("link", { name: "7d" })).toHaveAttribute("aria-current", "true");
    await expect.poll(() => canvasImage(chart), { message: "the week is drawn" }).not.toBe(hour);

    // Drag across the middle of the chart: the view zooms to that span.
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.up();
    await expect(page).toHaveURL(/from=\d+&to=\d+/);
    await expect(page.locator(".range-note")).toContainText(/\d{4}/);
  });
});
