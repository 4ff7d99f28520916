import { expect, test } from "@playwright/test";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { addDevice, minutesAgo, openLive, post } from "./hearth";

/** An HTTP server on a free port recording what ntfy would get: each POST's path, token and JSON. */
async function ntfyRecorder() {
  const got: { path: string; auth?: string; body: any }[] = [];
  const server = createServer((req, res) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => {
      got.push({ path: req.url ?? "", auth: req.headers.authorization, body: JSON.parse(data || "null") });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, close: () => server.close() };
}

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
    await expect(banner).toContainText(title, { timeout: 30_000 });
    await expect(banner).toContainText("92 %");
    await expect(badge).toHaveText(String(before + 1));
    await expect(page.getByTestId("open-alerts")).toContainText(title);
    await live.notReloaded();

    // Still there after a reload, from the server: in the HTML itself, so nothing moves when
    // the page hydrates.
    const html = await (await page.request.get("/")).text();
    expect(html).toContain('data-testid="alert-banner"');
    expect(html).toContain(title);
    await page.reload();
    await expect(page.getByTestId("alert-banner")).toBeVisible();
    await expect(page.getByTestId("alert-badge")).toHaveText(String(before + 1));
    await page.goto("/");
    await expect(page.getByTestId("alert-banner")).toBeVisible();
  });

  test("the owner sets ntfy on the page, sends a test that arrives, and never sees the token again", async ({ page }) => {
    const ntfy = await ntfyRecorder();
    try {
      await openLive(page, "/alerts");
      const panel = page.getByTestId("alert-channels");
      await panel.getByLabel("Topic URL").fill(`${ntfy.url}/e2e-house`);
      await panel.getByLabel("Access token").fill("tk_e2e_secret");
      await panel.getByRole("button", { name: "Save ntfy" }).click();
      await expect(panel.locator("h3", { hasText: "ntfy" })).toContainText("on");
      const token = panel.getByLabel("Access token");
      await expect(token).toHaveValue("");
      await expect(token).toHaveAttribute("placeholder", /saved/);
      expect(await page.content()).not.toContain("tk_e2e_secret");

      await panel.getByRole("button", { name: "Send a test by ntfy" }).click();
      await expect(panel.getByRole("status")).toHaveText("test sent by ntfy");
      expect(ntfy.got.length).toBe(1);
      expect(ntfy.got[0].path).toBe("/");
      expect(ntfy.got[0].auth).toBe("Bearer tk_e2e_secret");
      expect(ntfy.got[0].body).toMatchObject({ topic: "e2e-house", title: "Hearth: test", priority: 3 });

      // A refused field is named.
      await panel.getByLabel("SMTP server").fill("smtp.example.org");
      await panel.getByLabel("Port").fill("70000");
      await panel.getByRole("button", { name: "Save email" }).click();
      await expect(panel.getByRole("alert")).toContainText("port must be a number");

      await panel.getByRole("button", { name: "Turn ntfy off" }).click();
      await expect(panel.locator("h3", { hasText: "ntfy" })).toContainText("off");
      await expect(panel.getByLabel("Topic URL")).toHaveValue("");
    } finally {
      ntfy.close();
    }
  });
});
