import { expect, test } from "@playwright/test";
import { addDevice, minutesAgo, openLive, pixelsOfColor, post } from "./hearth";

test.describe("appliances", () => {
  let token: string;
  let dryer: string;
  let name: string;

  test.beforeAll(async ({ request }, info) => {
    const project = info.project.name;
    token = addDevice(`e2e-appliances-${project}`);
    dryer = `aa_dryer_${project}`;
    name = `Aa dryer ${project}`;
    // A run from 90 to 60 minutes ago drawing 2 kW: 30 min, 1.00 kWh.
    await post(request, token, [
      { sensor: `${dryer}.switch`, kind: "switch", room: "Utility", value: 1, at: minutesAgo(90) },
      { sensor: `${dryer}.power`, kind: "power", room: "Utility", value: 2000, at: minutesAgo(90) },
      { sensor: `${dryer}.switch`, value: 0, at: minutesAgo(60) },
      { sensor: `${dryer}.power`, value: 0, at: minutesAgo(60) },
    ]);
  });

  test("shows runs on a timeline, hours per day and a table with duration and energy", async ({ page }) => {
    const { errors } = await openLive(page, "/appliances");
    await expect(page.getByRole("heading", { name: "Appliances", level: 1 })).toBeVisible();
    const row = page.getByTestId("runs").locator("tr", { hasText: name }).first();
    await expect(row).toContainText("30 min");
    await expect(row).toContainText("1.00 kWh");
    // The dryer sorts first: its runs are drawn in the first palette colour.
    const timeline = page.getByRole("img", { name: "Appliance runs over time" });
    await expect.poll(() => pixelsOfColor(timeline, [230, 97, 1]), { message: "the run is drawn" }).toBeGreaterThan(10);
    const hours = page.getByRole("img", { name: "Hours each appliance was on, per day" });
    await expect.poll(() => pixelsOfColor(hours, [230, 97, 1]), { message: "today's half hour is drawn" }).toBeGreaterThan(10);
    expect(errors).toEqual([]);
  });

  test("a switch turned on and off shows a new run live", async ({ page, request }) => {
    const { notReloaded } = await openLive(page, "/appliances?range=24h");
    const rows = page.getByTestId("runs").locator("tr", { hasText: name });
    await expect(rows).toHaveCount(1);
    await post(request, token, [{ sensor: `${dryer}.switch`, value: 1 }]);
    await expect(rows).toHaveCount(2);
    await expect(rows.first()).toContainText("still on");
    await post(request, token, [{ sensor: `${dryer}.switch`, value: 0 }]);
    await expect(rows.first()).not.toContainText("still on");
    await expect(rows.first()).toContainText("0 min");
    await notReloaded();
  });
});
