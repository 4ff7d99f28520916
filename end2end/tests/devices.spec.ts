import { expect, test } from "@playwright/test";
import { hydrated, openLive, post } from "./hearth";

test.describe("devices", () => {
  test("adding a device shows its token once, and the token posts readings", async ({ page, request }) => {
    const name = `porch-${test.info().project.name}-${Date.now().toString(36)}`;
    await openLive(page, "/devices");
    await expect(page.getByRole("heading", { name: "Devices", level: 1 })).toBeVisible();
    await page.getByLabel("Device name").fill(name);
    await page.getByRole("button", { name: "Add device" }).click();
    const token = (await page.getByTestId("new-token").locator(".token").textContent())!.trim();
    expect(token).toMatch(/^hth_[0-9a-f]{64}$/);

    await post(request, token, [{ sensor: "porch.temp", kind: "temperature", value: 4.5 }]);
    await page.reload();
    const device = page.locator(".device", { has: page.getByRole("heading", { name }) });
    await expect(device).toContainText("last seen just now");
    await expect(device.locator("tr", { hasText: "porch.temp" })).toContainText("4.5 °C");
    await expect(page.getByTestId("new-token")).toHaveCount(0);
  });

  test("a sensor can be named and placed in a room", async ({ page, request }) => {
    const name = `shed-${test.info().project.name}-${Date.now().toString(36)}`;
    await openLive(page, "/devices");
    await page.getByLabel("Device name").fill(name);
    await page.getByRole("button", { name: "Add device" }).click();
    const token = (await page.getByTestId("new-token").locator(".token").textContent())!.trim();
    await post(request, token, [{ sensor: "shed.temp", kind: "temperature", value: 7 }]);
    await page.reload();
    await hydrated(page);

    const row = page.locator(".device", { has: page.getByRole("heading", { name }) }).locator("tr", { hasText: "shed.temp" });
    await row.getByLabel("Name").fill("Garden shed");
    await row.getByLabel("Room").fill(`Shed ${test.info().project.name}`);
    await row.getByRole("button", { name: "Save" }).click();
    await expect(row.getByLabel("Room")).toHaveValue(`Shed ${test.info().project.name}`);
    await page.reload();
    await expect(row.getByLabel("Name")).toHaveValue("Garden shed");
    // The temperature view now lists it under its room.
    await page.goto("/temperature");
    await expect(page.locator(".legend li", { hasText: `Shed ${test.info().project.name}` })).toContainText("7.0 °C");
  });
});
