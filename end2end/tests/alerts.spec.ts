import { expect, test } from "@playwright/test";
import { addDevice, minutesAgo, openLive, post } from "./hearth";

test.describe("alerts", () => {
  test("a humidity rule made on the page opens an alert that shows live in the banner, the badge and the list", async ({ page, request }) => {
    const project = test.info().project.name;
    const stamp = Date.now().toString(36);
    const key = `bathroom_${project}_${stamp}.humidity`;
    // How the page names the sensor: its key's stem as words, and its kind.
    const title = `Bathroom ${project} ${stamp} humidity`;
    const token = addDevice(`bathroom-${project}`);
    await post(request, token, [{ sensor: key, kind: "humidity", value: 60, at: minutesAgo(30) }]);

    const live = await openLive(page, "/alerts");
    const badge = page.getByTestId("alert-badge");
    const before = (await badge.count()) ? Number(await badge.textContent()) : 0;

    await page.getByLabel("Kind").selectOption("above");
    const sensor = page.getByLabel("Sensor");
    const option = await sensor.locator("option", { hasText: key }).getAttribute("value");
    await sensor.selectOption(option!);
    await page.getByLabel("Value").fill("80");
    await page.getByLabel("Minutes").fill("10");
    await page.getByRole("button", { name: "Add rule" }).click();
    const rule = page.locator(".rule-list li", { hasText: key });
    await expect(rule).toContainText(`${title} above 80 % for 10 min`);

    // Above 80 % for 15 minutes of reading time, posted at once with past times.
    await post(
      request,
      token,
      [15, 12, 9, 6, 3, 0].map((ago) => ({ sensor: key, value: 92, at: minutesAgo(ago) })),
    );
    const banner = page.getByTestId("alert-banner");
    await expect(banner).toContainText(title, { timeout: 15_000 });
    await expect(banner).toContainText("92 %");
    await expect(badge).toHaveText(String(before + 1));
    await expect(page.getByTestId("open-alerts")).toContainText(title);
    await live.notReloaded();

    // Still there after a reload, from the server.
    await page.reload();
    await expect(page.getByTestId("alert-banner")).toBeVisible();
    await expect(page.getByTestId("alert-badge")).toHaveText(String(before + 1));
    await page.goto("/");
    await expect(page.getByTestId("alert-banner")).toBeVisible();
  });
});
