import AxeBuilder from "@axe-core/playwright";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { addDevice, minutesAgo, numberIn, openLive, post } from "./hearth";

// Costs and flows as the pages show them, against what was posted and how it was priced: a
// flat tariff of 0.25 €/kWh (export 0.10, standing 0.40 a day), a kettle's counter, a roof's
// solar counter and power, and the grid's two-way meter, given their roles through the
// Devices page's server function. Each project takes its roles away at the end, so the other
// project's flows are its own.

const money = (v: number) => `${v < 0 ? "−" : ""}€${Math.abs(v).toFixed(2)}`;

async function setRole(request: APIRequestContext, sensorId: number, role: string) {
  const response = await request.post("/api/owner/update_sensor", {
    form: { sensor_id: String(sensorId), name: "", room: "", role },
    // As the owner's own page sends it: a write with the session cookie from another site is refused.
    headers: { "Sec-Fetch-Site": "same-origin" },
  });
  expect(response.status(), await response.text()).toBe(200);
}

test.describe("costs and flows", () => {
  let token: string;
  // Keys of this run and project only: a retried spec registers a new device with new keys.
  let p: string;
  const roles: [string, string][] = [];
  const ids = new Map<string, number>();

  test.beforeAll(async ({ request }, info) => {
    p = `${info.project.name}_${Date.now().toString(36)}`;
    token = addDevice(`e2e-costs-${p}`);
    await post(request, token, [
      { sensor: `kettle_${p}.energy`, kind: "energy", room: "Kitchen", value: 5, at: minutesAgo(50) },
      { sensor: `kettle_${p}.energy`, value: 7, at: minutesAgo(10) },
      { sensor: `roof_${p}.energy`, kind: "energy", value: 100, at: minutesAgo(50) },
      { sensor: `roof_${p}.energy`, value: 103, at: minutesAgo(10) },
      { sensor: `grid_${p}.export`, kind: "energy", value: 20, at: minutesAgo(50) },
      { sensor: `grid_${p}.export`, value: 21, at: minutesAgo(10) },
      { sensor: `grid_${p}.import`, kind: "energy", value: 300, at: minutesAgo(50) },
      { sensor: `grid_${p}.import`, value: 300.5, at: minutesAgo(10) },
      { sensor: `roof_${p}.power`, kind: "power", value: 1500, at: minutesAgo(1) },
      { sensor: `grid_${p}.export_power`, kind: "power", value: 600, at: minutesAgo(1) },
    ]);
    const sensors: { id: number; key: string }[] = await (await request.get("/api/v1/sensors")).json();
    for (const s of sensors) ids.set(s.key, s.id);
    roles.push(
      [`roof_${p}.energy`, "solar"],
      [`roof_${p}.power`, "solar"],
      [`grid_${p}.export`, "grid_export"],
      [`grid_${p}.export_power`, "grid_export"],
      [`grid_${p}.import`, "grid_import"],
    );
    for (const [key, role] of roles) await setRole(request, ids.get(key)!, role);
    const tariffs = { tariffs: [{ from: "2020-01-01", currency: "EUR", import: { price: 0.25 }, standing_per_day: 0.4, export: { price: 0.1 } }] };
    const put = await request.put("/api/v1/tariffs", { data: tariffs, headers: { "Sec-Fetch-Site": "same-origin" } });
    expect(put.status(), await put.text()).toBe(200);
  });

  test.afterAll(async ({ request }) => {
    for (const [key] of roles) await setRole(request, ids.get(key)!, "none");
  });

  test("Electricity shows each device's cost, the days' costs and the flows posted", async ({ page, request }) => {
    const { errors } = await openLive(page, "/energy");
    // 2 kWh at 0.25.
    await expect(page.getByTestId("breakdown").locator("li", { hasText: `Kettle ${p.replace(/_/g, " ")}` })).toContainText(`2.00 kWh · ${money(0.5)}`);
    const api = await (await request.get("/api/v1/costs")).json();
    expect(api.currency).toBe("EUR");
    const kettle = api.devices.find((d: { sensor_id: number }) => d.sensor_id === ids.get(`kettle_${p}.energy`));
    expect(kettle.kwh).toBeCloseTo(2, 9);
    expect(kettle.cost).toBeCloseTo(0.5, 9);
    // Today as posted and priced: standing 0.40 + 0.5 kWh imported at 0.25 − 1 kWh exported at
    // 0.10, shown rounded to cents (the API's sum is not rounded).
    const today = api.days[api.days.length - 1];
    expect(today.total).toBeCloseTo(0.4 + 0.5 * 0.25 - 0.1, 9);
    const row = page.getByTestId("costs").locator(`tr[data-date="${today.date}"]`);
    await expect.poll(async () => Math.abs((await numberIn(row.locator('[data-cost="total"]'))) - today.total)).toBeLessThanOrEqual(0.0051);
    // Solar 3 kWh, 1 of it exported: the days shown and now (1500 W, 600 W of it exported).
    const flows = page.getByTestId("flows");
    await expect(flows.locator('svg[aria-label="Energy flows over the days shown"] [data-flow="solar-grid"] text')).toHaveText("1.0 kWh");
    await expect(flows.locator('svg[aria-label="Energy flows over the days shown"] [data-flow="solar-house"] text')).toHaveText("2.0 kWh");
    const now = flows.getByTestId("flows-now");
    await expect(now.locator('[data-flow="solar-grid"] text')).toHaveText("600 W");
    await expect(now.locator('[data-flow="solar-house"] text')).toHaveText("900 W");
    // The flow now follows live power.
    await post(request, token, [{ sensor: `grid_${p}.export_power`, value: 1000 }]);
    await expect(now.locator('[data-flow="solar-grid"] text')).toHaveText("1.00 kW");
    expect(errors).toEqual([]);
  });

  test("Overview shows today's cost as priced, moving with the import meter", async ({ page, request }) => {
    const { notReloaded } = await openLive(page, "/");
    const api = await (await request.get("/api/v1/costs")).json();
    const today = api.days[api.days.length - 1];
    const card = page.getByTestId("cost-today");
    await expect.poll(async () => Math.abs((await numberIn(card.locator(".big"))) - today.total)).toBeLessThanOrEqual(0.0051);
    await expect(card.getByTestId("cost-month")).toContainText("this month");
    const before = await numberIn(card.locator(".big"));
    // One more kWh from the grid at 0.25.
    await post(request, token, [{ sensor: `grid_${p}.import`, value: 301.5 }]);
    // Shown rounded to cents, either figure may round the other way.
    await expect.poll(async () => Math.abs((await numberIn(card.locator(".big"))) - (before + 0.25))).toBeLessThanOrEqual(0.0101);
    await notReloaded();
  });

  test("a device's cost moves with its live readings, priced by today's tariff", async ({ page, request }) => {
    const { notReloaded } = await openLive(page, "/energy");
    const kettleId = ids.get(`kettle_${p}.energy`)!;
    const before = (await (await request.get("/api/v1/costs")).json()).devices.find((d: { sensor_id: number }) => d.sensor_id === kettleId);
    const row = page.getByTestId("breakdown").locator("li", { hasText: `Kettle ${p.replace(/_/g, " ")}` });
    await expect(row).toContainText(`${before.kwh.toFixed(2)} kWh · ${money(before.cost)}`);
    // One more kWh at 0.25, without a reload.
    const sensors: { id: number; last_value: number }[] = await (await request.get("/api/v1/sensors")).json();
    const last = sensors.find((s) => s.id === kettleId)!.last_value;
    await post(request, token, [{ sensor: `kettle_${p}.energy`, value: last + 1 }]);
    await expect(row).toContainText(`${(before.kwh + 1).toFixed(2)} kWh · ${money(before.cost + 0.25)}`);
    await notReloaded();
  });

  test("the Tariffs form saves what was typed, names the field of a refusal, and costs follow", async ({ page, request }) => {
    await openLive(page, "/tariffs");
    await expect(page.locator("li[data-from='2020-01-01']")).toContainText("flat 0.2500 EUR/kWh");
    const tariff = page.locator("fieldset.tariff[data-tariff='0']");
    await expect(tariff.getByLabel("Valid from")).toHaveValue("2020-01-01");
    await expect(tariff.getByLabel("Price per kWh", { exact: true })).toHaveValue("0.25");
    await tariff.getByLabel("Price per kWh", { exact: true }).fill("0.5");
    await tariff.getByLabel("Gas price per kWh").fill("0.11");
    await tariff.getByLabel("kWh per m³ of gas").fill("11.2");
    await tariff.getByLabel("Water price per m³").fill("2.1");
    await page.getByRole("button", { name: "Save tariffs" }).click();
    await expect(page.locator(".tariff-form [role=status]")).toHaveText("Saved.");

    // Kept: read back after a reload, in the form and in the list.
    await openLive(page, "/tariffs");
    await expect(page.locator("li[data-from='2020-01-01']")).toContainText("flat 0.5000 EUR/kWh");
    await expect(tariff.getByLabel("Price per kWh", { exact: true })).toHaveValue("0.5");
    await expect(tariff.getByLabel("Gas price per kWh")).toHaveValue("0.11");
    await expect(tariff.getByLabel("kWh per m³ of gas")).toHaveValue("11.2");
    await expect(tariff.getByLabel("Water price per m³")).toHaveValue("2.1");
    await expect(tariff.getByLabel("Standing charge a day", { exact: true })).toHaveValue("0.4");
    const stored = (await (await request.get("/api/v1/tariffs")).json()).tariffs;
    expect(stored).toEqual([
      { from: "2020-01-01", currency: "EUR", import: { price: 0.5 }, standing_per_day: 0.4, export: { price: 0.1 }, gas: { price: 0.11, standing_per_day: 0, kwh_per_m3: 11.2 }, water: { price_per_m3: 2.1, standing_per_day: 0 } },
    ]);

    // Costs elsewhere follow: the kettle's kWh now at 0.50.
    const api = await (await request.get("/api/v1/costs")).json();
    const kettle = api.devices.find((d: { sensor_id: number }) => d.sensor_id === ids.get(`kettle_${p}.energy`));
    expect(kettle.cost).toBeCloseTo(kettle.kwh * 0.5, 9);
    await openLive(page, "/energy");
    await expect(page.getByTestId("breakdown").locator("li", { hasText: `Kettle ${p.replace(/_/g, " ")}` })).toContainText(`${kettle.kwh.toFixed(2)} kWh · ${money(kettle.cost)}`);

    // Time of use with two zones that overlap on Monday morning: refused at the second zone.
    await openLive(page, "/tariffs");
    await tariff.getByLabel("Import price").selectOption("zones");
    await expect(tariff.getByLabel("Price outside the zones, per kWh")).toHaveValue("0.5");
    for (const [from, to, price] of [["07:00", "10:00", "0.3"], ["09:00", "12:00", "0.4"]]) {
      await tariff.getByRole("button", { name: "Add a zone" }).click();
      const zone = tariff.locator(".zone").last();
      await zone.getByLabel("Mon").check();
      await zone.getByLabel("From").fill(from);
      await zone.getByLabel("To").fill(to);
      await zone.getByLabel("Price per kWh").fill(price);
    }
    // Zone rows fit a phone's width, and the form breaks no accessibility rule.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, "the page is no wider than the screen").toBeLessThanOrEqual(0);
    const axe = await new AxeBuilder({ page }).include(".tariff-form").analyze();
    expect(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
    await page.getByRole("button", { name: "Save tariffs" }).click();
    const refusal = tariff.locator(".zone[data-zone='1'] p.field-error");
    await expect(refusal).toContainText("tariffs[0].import.zones[1] overlaps tariffs[0].import.zones[0]");
    await expect(tariff.locator(".zone[data-zone='1']")).toHaveAttribute("data-invalid", "true");
    await expect(page.locator(".tariff-form [role=status]")).toHaveCount(0);
    // Nothing stored changed.
    expect((await (await request.get("/api/v1/tariffs")).json()).tariffs).toEqual(stored);

    // A negative standing charge is named beside its field.
    await tariff.locator(".zone[data-zone='1']").getByRole("button", { name: "Remove zone" }).click();
    await tariff.getByLabel("Standing charge a day", { exact: true }).fill("-1");
    await page.getByRole("button", { name: "Save tariffs" }).click();
    await expect(tariff.locator("p.field-error[data-field='tariffs[0].standing_per_day']")).toContainText("must not be negative");
    await expect(tariff.getByLabel("Standing charge a day", { exact: true })).toHaveAttribute("aria-invalid", "true");

    // The other specs find the tariff this one started with.
    const put = await request.put("/api/v1/tariffs", {
      data: { tariffs: [{ from: "2020-01-01", currency: "EUR", import: { price: 0.25 }, standing_per_day: 0.4, export: { price: 0.1 } }] },
      headers: { "Sec-Fetch-Site": "same-origin" },
    });
    expect(put.status()).toBe(200);
  });

  test("the untracked share's cost moves with the house meter, priced by today's tariff", async ({ page, request }) => {
    // A house meter on this run's device that counted 5 kWh more today than every device's
    // counter, so something is untracked. It is the house's only while this test runs.
    const days: { date: string }[] = (await (await request.get("/api/v1/costs")).json()).days;
    const devices: { kwh: number }[] = (await (await request.get(`/api/v1/costs?from=${days[days.length - 1].date}`)).json()).devices;
    const end = 40 + Math.ceil(devices.reduce((sum, d) => sum + d.kwh, 0)) + 5;
    const key = `meter_${p}.energy`;
    await post(request, token, [
      { sensor: key, kind: "energy", value: 40, at: minutesAgo(50) },
      { sensor: key, value: end, at: minutesAgo(10) },
    ]);
    const sensors: { id: number; key: string }[] = await (await request.get("/api/v1/sensors")).json();
    const id = sensors.find((s) => s.key === key)!.id;
    const setMain = async (main: boolean) => {
      const form: Record<string, string> = { sensor_id: String(id), name: "", room: "", role: "none", ...(main ? { main: "on" } : {}) };
      const response = await request.post("/api/owner/update_sensor", { form, headers: { "Sec-Fetch-Site": "same-origin" } });
      expect(response.status(), await response.text()).toBe(200);
    };
    await setMain(true);
    try {
      const { notReloaded } = await openLive(page, "/energy");
      const untracked = page.getByTestId("breakdown").locator('li[data-part="Untracked"] .num');
      const shown = async () => {
        const [kwh, cost] = (await untracked.textContent())!.split("·").map((part) => Number(part.replace(/[^0-9.]/g, "")));
        return { kwh, cost };
      };
      await expect(untracked).toContainText("€");
      await expect.poll(async () => (await shown()).kwh).toBeGreaterThan(0);
      const before = await shown();
      // One kWh more on the house meter, none on the devices: all of it untracked, at 0.25.
      await post(request, token, [{ sensor: key, value: end + 1 }]);
      // Each figure is shown rounded to hundredths, so each may round the other way.
      await expect.poll(async () => Math.abs((await shown()).kwh - (before.kwh + 1))).toBeLessThanOrEqual(0.0101);
      await expect.poll(async () => Math.abs((await shown()).cost - (before.cost + 0.25))).toBeLessThanOrEqual(0.0101);
      await notReloaded();
    } finally {
      await setMain(false);
    }
  });
  test("today's row of the cost table moves with the import meter, priced by today's tariff", async ({ page, request }) => {
    const { notReloaded } = await openLive(page, "/energy");
    const today = async () => {
      const days = (await (await request.get("/api/v1/costs")).json()).days;
      return days[days.length - 1];
    };
    const before = await today();
    const row = page.getByTestId("costs").locator(`tr[data-date="${before.date}"]`);
    const shows = (key: string, amount: number) =>
      expect.poll(async () => Math.abs((await numberIn(row.locator(`[data-cost="${key}"]`))) - amount)).toBeLessThanOrEqual(0.0051);
    await shows("total", before.total);
    // One more kWh from the grid at 0.25, without a reload.
    const sensors: { id: number; last_value: number }[] = await (await request.get("/api/v1/sensors")).json();
    const last = sensors.find((s) => s.id === ids.get(`grid_${p}.import`))!.last_value;
    await post(request, token, [{ sensor: `grid_${p}.import`, value: last + 1 }]);
    const after = await today();
    expect(after.import_cost).toBeCloseTo(before.import_cost + 0.25, 9);
    await shows("import", after.import_cost);
    await shows("total", after.total);
    await notReloaded();
  });

  test("under a dynamic tariff a live rise takes the price of its instant, not a day-ahead one", async ({ page, request }) => {
    const key = `spot_${p}.price`;
    await post(request, token, [{ sensor: key, kind: "price", value: 0.3, at: minutesAgo(120) }]);
    const sensors: { id: number; key: string; last_value: number }[] = await (await request.get("/api/v1/sensors")).json();
    const priceId = sensors.find((s) => s.key === key)!.id;
    const importLast = sensors.find((s) => s.id === ids.get(`grid_${p}.import`))!.last_value;
    const put = (tariffs: unknown[]) => request.put("/api/v1/tariffs", { data: { tariffs }, headers: { "Sec-Fetch-Site": "same-origin" } });
    const kept = (await (await request.get("/api/v1/tariffs")).json()).tariffs;
    const days = (await (await request.get("/api/v1/costs")).json()).days;
    const today = days[days.length - 1].date;
    // From today on, the import price is the spot price sensor's.
    const dynamic = { from: today, currency: "EUR", import: { price_sensor: priceId }, standing_per_day: 0.4, export: { price: 0.1 } };
    const response = await put([...kept.filter((t: { from: string }) => t.from < today), dynamic]);
    expect(response.status(), await response.text()).toBe(200);
    try {
      const { notReloaded } = await openLive(page, "/");
      const card = page.getByTestId("cost-today").locator(".big");
      await expect(card).toContainText("€");
      const before = await numberIn(card);
      // Tonight's price, posted ahead, then one more kWh from the grid now: priced at 0.30.
      await post(request, token, [{ sensor: key, value: 0.9, at: minutesAgo(-120) }]);
      await post(request, token, [{ sensor: `grid_${p}.import`, value: importLast + 1 }]);
      await expect.poll(async () => Math.abs((await numberIn(card)) - (before + 0.3))).toBeLessThanOrEqual(0.0101);
      await notReloaded();
    } finally {
      expect((await put(kept)).status()).toBe(200);
    }
  });
});
