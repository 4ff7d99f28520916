import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { HYDRATION_TIMEOUT, addDevice, minutesAgo, post } from "./hearth";

// Every view, checked by axe-core (the rules Lighthouse's accessibility audit runs) once it is
// hydrated and live, and for a sideways scroll hidden on a phone.
const VIEWS = ["/", "/temperature", "/energy", "/appliances", "/water", "/devices", "/alerts", "/tariffs"];

test.describe("accessibility", () => {
  test.beforeAll(async ({ request }, info) => {
    const token = addDevice(`e2e-a11y-${info.project.name}`);
    const at = minutesAgo(2);
    await post(request, token, [
      { sensor: "a11y.temp", kind: "temperature", room: "Study", value: 21.5, at },
      { sensor: "a11y.power", kind: "power", value: 420, at },
      { sensor: "a11y.energy", kind: "energy", value: 12.5, at },
      { sensor: "a11y.switch", kind: "switch", value: 1, at },
      // No flow sensor: the water spec's flow line keeps the first colour of that chart.
    ]);
  });

  for (const view of VIEWS) {
    test(`${view} breaks no accessibility rule and does not scroll sideways`, async ({ page }) => {
      await page.goto(view);
      await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true", { timeout: HYDRATION_TIMEOUT });
      await expect(page.locator('[data-live="open"]')).toBeVisible({ timeout: 20_000 });
      const results = await new AxeBuilder({ page }).analyze();
      const found = results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
      expect(found).toEqual([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, "the page is no wider than the screen").toBeLessThanOrEqual(0);
    });
  }
});
