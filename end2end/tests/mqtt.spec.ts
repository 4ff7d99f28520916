import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { hearthEnv } from "../playwright.config";
import { hydrated } from "./hearth";

// The MQTT panel of the Devices page.
const root = path.resolve(__dirname, "../..");

function addDevice(name: string): void {
  execFileSync(path.join(root, "target/debug/hearth"), ["device", "add", name], {
    cwd: root,
    env: { ...process.env, ...hearthEnv },
    encoding: "utf8",
  });
}

test("a device's topic prefix is set and cleared from the panel", async ({ page }, info) => {
  const name = `mqtt-e2e-${info.project.name}-${Date.now().toString(36)}`;
  addDevice(name);
  await page.goto("/devices");
  await expect(page.getByText("No broker configured")).toBeVisible();
  const row = page.locator(`tr[data-device="${name}"]`);
  const prefix = row.getByRole("textbox", { name: `MQTT topic prefix of ${name}` });
  await expect(prefix).toHaveValue("");
  await hydrated(page, ".mqtt-panel");

  await prefix.fill(`tasmota_${info.project.name}`);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes("set_mqtt_prefix")),
    row.getByRole("button", { name: "Save" }).click(),
  ]);
  await page.reload();
  await hydrated(page, ".mqtt-panel");
  await expect(page.locator(`tr[data-device="${name}"]`).getByRole("textbox")).toHaveValue(`tasmota_${info.project.name}`);

  const again = page.locator(`tr[data-device="${name}"]`);
  await again.getByRole("textbox").fill("tele/#");
  await again.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert")).toContainText("must not contain");
});
