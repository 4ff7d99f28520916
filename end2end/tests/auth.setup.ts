import { expect, test as setup } from "@playwright/test";
import { owner, ownerState } from "../playwright.config";
import { hydrated } from "./hearth";

// The server starts on an empty database: the first page asks for the owner's account.
setup("the first start asks for an account, which is then logged in", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole("heading", { name: "Welcome to Hearth" })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Name").fill(owner.name);
  await page.getByLabel("Password", { exact: true }).fill(owner.password);
  await page.getByLabel("Password again").fill(owner.password);
  await page.getByRole("button", { name: "Create the account" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Home", level: 1 })).toBeVisible();
  await expect(page.locator(".account-name")).toHaveText(owner.name);
  await page.context().storageState({ path: ownerState });
});
