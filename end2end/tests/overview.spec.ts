import { expect, test } from "@playwright/test";
import { addDevice, minutesAgo, numberIn, openLive, post } from "./hearth";

// The overview sums every whole-house meter of the house; other specs post too, so the
// numbers are checked as what this spec adds to them.
test.describe("overview", () => {
  let token: string;
  let room: string;
  let plug: string;

  test.beforeAll(async ({ request }, info) => {
    const project = info.project.name;
    token = addDevice(`e2e-overview-${project}`);
    room = `Den ${project}`;
    plug = `kettle_${project}`;
    await post(request, token, [
      { sensor: "den.temp", kind: "temperature", room, value: 21.3, at: minutesAgo(2) },
      { sensor: "den.humidity", kind: "humidity", room, value: 47, at: minutesAgo(2) },
      { sensor: `${plug}.switch`, kind: "switch", room, value: 0, at: minutesAgo(30) },
      { sensor: "house.power", kind: "power", value: 1234, at: minutesAgo(1) },
    ]);
  });

  test("shows each room, the power, today's totals and what is on", async ({ page }) => {
    const { errors } = await openLive(page, "/");
    await expect(page.getByRole("heading", { name: "Home", level: 1 })).toBeVisible();
    const card = page.locator(".card.room", { hasText: room });
    await expect(card).toContainText("21.3");
    await expect(card).toContainText("47 % humidity");
    for (const id of ["power-now", "energy-today", "water-today", "appliances-on"]) {
      await expect(page.getByTestId(id)).toBeVisible();
    }
    expect(errors).toEqual([]);
  });

  test("every number moves with posted readings, without a reload", async ({ page, request }) => {
    const { notReloaded } = await openLive(page, "/");
    const energy = page.getByTestId("energy-today").locator(".big");
    const water = page.getByTestId("water-today").locator(".big");
    const power = page.getByTestId("power-now").locator(".big");

    // A whole-house meter of our own: its first readings set its baseline…
    await post(request, token, [
      { sensor: "house.energy", kind: "energy", value: 1000, at: minutesAgo(1) },
      { sensor: "house.water", kind: "water", value: 5000, at: minutesAgo(1) },
    ]);
    await expect.poll(() => energy.textContent()).not.toContain("–");
    const energyBefore = await numberIn(energy);
    const waterBefore = await numberIn(water);

    // …and what it adds shows at once.
    await post(request, token, [
      { sensor: "house.energy", value: 1001.25 },
      { sensor: "house.water", value: 5042 },
    ]);
    await expect.poll(() => numberIn(energy)).toBeCloseTo(energyBefore + 1.25, 2);
    await expect.poll(() => numberIn(water)).toBeCloseTo(waterBefore + 42, 0);

    // A counter that drops (a reset) adds nothing: once a reading posted after it shows (the
    // stream keeps their order), the drop has been taken in too.
    await post(request, token, [{ sensor: "house.energy", value: 3 }]);
    await post(request, token, [{ sensor: "house.water", value: 5043 }]);
    await expect.poll(() => numberIn(water)).toBeCloseTo(waterBefore + 43, 0);
    expect(await numberIn(energy)).toBeCloseTo(energyBefore + 1.25, 2);

    // The house's power is the sum of its meters' newest values.
    const watts = async () => {
      const text = (await power.textContent()) ?? "";
      return text.includes("kW") ? (await numberIn(power)) * 1000 : await numberIn(power);
    };
    await expect(power).not.toHaveText("–");
    const first = await watts();
    await post(request, token, [{ sensor: "house.power", value: 1500 }]);
    await expect.poll(async () => Math.abs((await watts()) - (first + 266))).toBeLessThan(10);

    await post(request, token, [{ sensor: "den.temp", value: 22.8 }]);
    await expect(page.locator(".card.room", { hasText: room })).toContainText("22.8");

    await post(request, token, [{ sensor: `${plug}.switch`, value: 1 }]);
    const on = page.locator(".on-list li", { hasText: /Kettle/ });
    await expect(on).toContainText("on for 0 min");
    await post(request, token, [{ sensor: `${plug}.switch`, value: 0 }]);
    await expect(on).toHaveCount(0);
    await notReloaded();
  });
});
