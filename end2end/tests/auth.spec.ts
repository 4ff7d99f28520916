import { expect, test, type Browser, type Page } from "@playwright/test";
import { owner } from "../playwright.config";
import { hydrated } from "./hearth";

const nobody = { cookies: [], origins: [] };

/** A page in a context of its own without any session. */
async function anonymousPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ storageState: nobody });
  return context.newPage();
}

async function logIn(page: Page, password: string) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Name").fill(owner.name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

test.describe("without a session", () => {
  test.use({ storageState: nobody });

  test("a page redirects to the login, and the API refuses", async ({ page, request }) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByRole("heading", { name: "Log in to Hearth" })).toBeVisible();
    expect((await request.get("/api/v1/sensors")).status()).toBe(401);
  });

  test("a wrong password is refused and the right one opens the dashboard", async ({ page }) => {
    await logIn(page, "not-the-password");
    await expect(page.getByRole("alert")).toHaveText("wrong name or password");
    await expect(page).toHaveURL(/\/login$/);
    await page.getByLabel("Password").fill(owner.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("heading", { name: "Home", level: 1 })).toBeVisible();
    await expect(page.locator(".account-name")).toHaveText(owner.name);
  });
});

test("logging out ends the session", async ({ browser }) => {
  const page = await anonymousPage(browser);
  await logIn(page, owner.password);
  await expect(page.locator(".account-name")).toHaveText(owner.name);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  expect((await page.request.get("/api/v1/sensors")).status()).toBe(401);
});

test("a share link shows the pages read-only", async ({ page, browser }) => {
  await page.goto("/");
  // Before hydration the link and the form would work without the app: a full page load and
  // a plain form post, after which the new link is no longer on the page.
  await hydrated(page);
  await page.getByRole("link", { name: "Share" }).click();
  await expect(page).toHaveURL(/\/sharing$/);
  await hydrated(page);
  const label = `Wall ${test.info().project.name}`;
  await page.getByLabel("Label").fill(label);
  await page.getByRole("button", { name: "Create a link" }).click();
  const link = page.locator(".new-link code");
  await expect(link).toContainText("/share/");
  const url = (await link.textContent())!;
  await expect(page.locator(".share-links li", { hasText: label })).toBeVisible();

  const screen = await anonymousPage(browser);
  await screen.goto(url);
  await expect(screen).toHaveURL(/\/$/);
  await expect(screen.getByRole("heading", { name: "Home", level: 1 })).toBeVisible();
  await expect(screen.locator(".account-name")).toHaveText(label);
  await expect(screen.locator(".account .badge")).toHaveText("Read-only");
  await expect(screen.getByRole("link", { name: "Share" })).toHaveCount(0);
  // Tariffs are shown, not edited.
  await screen.goto("/tariffs");
  await expect(screen.getByRole("heading", { name: "Tariffs", level: 1 })).toBeVisible();
  await expect(screen.locator("form.tariff-form")).toHaveCount(0);
  // The owner's pages refuse it: the share list does not load.
  await screen.goto("/sharing");
  await expect(screen.locator(".sharing .error")).toContainText("read-only");

  // Revoking the link ends the screen's session.
  await page.locator(".share-links li", { hasText: label }).getByRole("button", { name: "Revoke" }).click();
  await expect(page.locator(".share-links li", { hasText: label })).toHaveCount(0);
  await screen.goto("/");
  await expect(screen).toHaveURL(/\/login$/);
});
