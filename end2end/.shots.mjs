// Logs in to a running Hearth and screenshots pages at desktop and phone sizes.
// usage: node /work/helpers/shots.mjs BASE_URL OUT_DIR USER PASSWORD path1 path2 ...   (run from /work/main/end2end)
import { chromium } from "@playwright/test";
const [base, out, user, password, ...paths] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
for (const [name, viewport, scheme] of [["desk", { width: 1440, height: 900 }, "light"], ["phone", { width: 390, height: 844 }, "light"], ["dark", { width: 1440, height: 900 }, "dark"]]) {
  if (process.env.ONLY && !process.env.ONLY.split(",").includes(name)) continue;
  const context = await browser.newContext({ viewport, colorScheme: scheme, deviceScaleFactor: name === "phone" ? 2 : 1 });
  const page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && console.log(`[${name}] console: ${m.text()}`));
  const r = await page.request.post(`${base}/api/public/login`, { form: { name: user, password } });
  if (!r.ok()) console.log("login failed", r.status(), await r.text());
  for (const p of paths) {
    await page.goto(base + p);
    await page.waitForTimeout(Number(process.env.WAIT ?? 2500));
    const file = `${out}/${p.replace(/[^a-z0-9]+/gi, "_") || "root"}-${name}.png`;
    await page.screenshot({ path: file, fullPage: true });
    console.log(file);
  }
  await context.close();
}
await browser.close();
