import { execFileSync } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { hearthEnv } from "../playwright.config";
import { hydrated } from "./hearth";

// Another site cannot act with the owner's session: a page served on another port of the
// same host (the owner's cookie is SameSite=Strict, which ports do not separate) posts to
// Hearth with a form and with fetch; Hearth refuses both, and creates nothing.

/** A web server on a free port of 127.0.0.1 serving `html` at `/`. */
async function otherSite(html: string) {
  const server = http.createServer((_, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, close: () => server.close() };
}

function deviceNames(): string {
  const root = path.resolve(__dirname, "../..");
  return execFileSync(path.join(root, "target/debug/hearth"), ["device", "list"], { cwd: root, env: { ...process.env, ...hearthEnv }, encoding: "utf8" });
}

test.describe("another site", () => {
  test("cannot add a device with the owner's session", async ({ page, baseURL }) => {
    const name = `evil-${test.info().project.name}-${Date.now().toString(36)}`;
    const site = await otherSite(`<!DOCTYPE html>
      <title>Win a prize</title>
      <form id="f" method="post" action="${baseURL}/api/owner/add_device"><input name="name" value="${name}-form"></form>
      <p id="fetched">…</p>
      <script>
        fetch("${baseURL}/api/owner/add_device", {
          method: "POST", mode: "no-cors", credentials: "include",
          headers: { "content-type": "application/x-www-form-urlencoded" }, body: "name=${name}-fetch",
        }).then(() => { document.getElementById("fetched").textContent = "sent"; document.getElementById("f").submit(); });
      </script>`);
    try {
      const refused = page.waitForResponse((r) => r.url().endsWith("/api/owner/add_device") && r.request().method() === "POST");
      await page.goto(site.url);
      expect((await refused).status()).toBe(403);
      // The form's own navigation shows the refusal (403, naming the origin).
      await expect(page.locator("body")).toContainText("comes from another site");
      await expect(page.locator("body")).toContainText('"field":"origin"');
      expect(deviceNames()).not.toContain(name);
    } finally {
      site.close();
    }
  });

  test("Hearth's own pages still change things, and hydrate under the Content-Security-Policy", async ({ page }) => {
    const violations: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") violations.push(m.text());
    });
    const answer = await page.goto("/devices");
    const policy = answer!.headers()["content-security-policy"];
    expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
    expect(policy.split(";").find((d) => d.trim().startsWith("script-src"))).not.toContain("unsafe-inline");
    expect(answer!.headers()["x-frame-options"]).toBe("DENY");
    await hydrated(page);
    const name = `own-${test.info().project.name}-${Date.now().toString(36)}`;
    await page.getByLabel("Device name").fill(name);
    await page.getByRole("button", { name: "Add device" }).click();
    await expect(page.getByTestId("new-token").locator(".token")).toHaveText(/^hth_/);
    expect(deviceNames()).toContain(name);
    expect(violations).toEqual([]);
  });
});
