import { expect, test } from "@playwright/test";
import { addDevice, minutesAgo, openLive, post } from "./hearth";

test.describe("CSV", () => {
  test("a chart view's Download CSV gives the readings it shows", async ({ page, request }, info) => {
    const token = addDevice(`e2e-csv-${info.project.name}`);
    const room = `Csv ${info.project.name}`;
    await post(request, token, [
      { sensor: "den.temp", kind: "temperature", room, value: 19.25, at: minutesAgo(30) },
      { sensor: "den.temp", value: 19.5, at: minutesAgo(10) },
    ]);
    await openLive(page, "/temperature?range=1h");
    const link = page.getByRole("link", { name: "Download CSV" });
    await expect(link).toBeVisible();
    const href = (await link.getAttribute("href"))!;
    expect(href).toMatch(/^\/api\/v1\/export\.csv\?from=\d+&to=\d+&kind=temperature,humidity$/);
    const download = page.waitForEvent("download");
    await link.click();
    const saved = await (await download).path();
    const text = require("node:fs").readFileSync(saved, "utf8") as string;
    expect(text.split("\n")[0]).toBe("time,local_time,device,sensor,kind,unit,room,value");
    const rows = text.split("\n").filter((l) => l.includes(`,${room},`));
    expect(rows.map((r) => r.split(",").pop())).toEqual(["19.25", "19.5"]);
  });

  test("a CSV file uploaded on Devices is imported with a progress bar, refused rows named", async ({ page }, info) => {
    const device = `e2e-import-${info.project.name}-${Date.now().toString(36)}`;
    await openLive(page, "/devices");
    const panel = page.locator(".import-panel");
    const rows = Array.from({ length: 3000 }, (_, i) => `${new Date(Date.now() - (3000 - i) * 60_000).toISOString()},${(20 + (i % 10) / 10).toFixed(1)}`);
    await panel.getByLabel("CSV file").setInputFiles({ name: "office.csv", mimeType: "text/csv", buffer: Buffer.from(`time,value\n${rows.join("\n")}\n`) });
    await panel.getByLabel("Device").fill(device);
    await panel.getByLabel("Sensor key").fill("office.temperature");
    await panel.getByLabel("Kind").selectOption("temperature");
    await panel.getByRole("button", { name: "Import" }).click();
    await expect(panel.getByTestId("import-done")).toContainText("3000 readings: 3000 stored, 0 already there. 1 devices created.");
    const card = page.locator(".device", { has: page.getByRole("heading", { name: device }) });
    await expect(card.locator("tr", { hasText: "office.temperature" })).toBeVisible();

    await panel.getByLabel("CSV file").setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from("time,value\n2026-01-01T00:00:00Z,1\nnoon,2\n") });
    await panel.getByRole("button", { name: "Import" }).click();
    await expect(panel.getByTestId("import-error")).toContainText("line 3: time \"noon\" is not RFC 3339");
    await page.screenshot({ path: test.info().outputPath(`import-${info.project.name}.png`), fullPage: false });
  });
});
