import { defineConfig, devices } from "@playwright/test";

// The server under test: the debug build from `cargo leptos build`, on its own port and a
// fresh SQLite file, started by Playwright and stopped after the run.
const port = Number(process.env.HEARTH_E2E_PORT ?? 3100);
const database = `target/e2e-${port}/hearth.db`;

/**
 * The house's time zone for the run: a fixed offset where it is about noon now. The specs post
 * readings from the last hour and expect them in "today"; in a zone where the run crossed
 * midnight they would rightly be yesterday's. (`Etc/GMT-3` is UTC+3: the sign is reversed.)
 */
function noonZone(): string {
  const offset = 12 - new Date().getUTCHours();
  return offset === 0 ? "Etc/UTC" : `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`;
}

// Chosen once by the main process; its workers inherit it.
process.env.HEARTH_E2E_TIMEZONE ??= noonZone();

export const hearthEnv = {
  HEARTH_TIMEZONE: process.env.HEARTH_E2E_TIMEZONE,
  HEARTH_DATABASE_URL: `sqlite://${database}`,
  LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
  LEPTOS_SITE_ROOT: "target/site",
  // Every spec logs in from 127.0.0.1; the default limit is for people, not test suites.
  HEARTH_LOGIN_ATTEMPTS_PER_MINUTE: "100",
};

/** The owner's account, created through the first-start page by `tests/auth.setup.ts`. */
export const owner = { name: "Owner", password: "e2e-owner-password" };

/** Where the setup project leaves the owner's logged-in session for every other spec. */
export const ownerState = "playwright/.auth/owner.json";

// Deadlines are sized for a loaded 2-core CI machine (another build running beside the
// tests): a step waits for what a person would see, never for a fixed time.
export default defineConfig({
  testDir: "./tests",
  timeout: 120_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  // A test that fails is run once more; one that then passes is reported as flaky.
  retries: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    // Creates the owner's account on the fresh server and saves its session.
    { name: "setup", testMatch: /.*\.setup\.ts/ },
    {
      name: "desktop",
      dependencies: ["setup"],
      use: { viewport: { width: 1440, height: 900 }, storageState: ownerState },
    },
    {
      name: "phone",
      dependencies: ["setup"],
      use: { ...devices["Pixel 7"], viewport: { width: 390, height: 844 }, storageState: ownerState },
    },
  ],
  webServer: {
    command: `rm -rf target/e2e-${port} && mkdir -p target/e2e-${port} && exec target/debug/hearth serve`,
    cwd: "..",
    env: hearthEnv,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});
