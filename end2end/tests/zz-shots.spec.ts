import { test, expect } from "@playwright/test";
test("shots", async ({ page }) => {
  const p = test.info().project.name;
  await page.goto("/alerts");
  await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true");
  await page.waitForTimeout(500);
  await page.screenshot({ path: `/tmp/alerts/alerts-${p}.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: `/tmp/alerts/alerts-${p}-dark.png`, fullPage: true });
  await page.getByLabel("Kind").selectOption("offline");
  await page.screenshot({ path: `/tmp/alerts/alerts-${p}-offline.png`, fullPage: true });
});
