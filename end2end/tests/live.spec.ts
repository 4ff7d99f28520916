import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { hearthEnv } from "../playwright.config";
import { addDevice, canvasImage, minutesAgo, openLive, post, unique } from "./hearth";

// The live stream survives a cut: the browser reconnects with Last-Event-ID and the server
// replays what was stored meanwhile, so the page shows it without a reload and without
// fetching its history again.
//
// The page is opened through a TCP relay on another port of 127.0.0.1 (cookies do not
// depend on the port), so the test can cut the connections for real: Chromium's offline
// emulation (`context.setOffline`) fails new requests but leaves an open streaming response
// running.

/** A TCP relay to `port`; `cut` closes every connection through it and refuses new ones
 * until `restore`, which may send them to another port. */
async function relay(port: number) {
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) return client.destroy();
    const upstream = net.connect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore(to = port) {
      port = to;
      down = false;
    },
    close() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}
/** A second `hearth serve` on the same database and a free port, as behind a load balancer;
 * returns its port and a function that stops it. */
async function secondServer() {
  const free = net.createServer();
  await new Promise<void>((resolve) => free.listen(0, "127.0.0.1", resolve));
  const port = (free.address() as net.AddressInfo).port;
  await new Promise((resolve) => free.close(resolve));
  const root = path.resolve(__dirname, "../..");
  const child = spawn(path.join(root, "target/debug/hearth"), ["serve"], {
    cwd: root,
    env: { ...process.env, ...hearthEnv, LEPTOS_SITE_ADDR: `127.0.0.1:${port}` },
    stdio: "ignore",
  });
  await expect
    .poll(async () => (await fetch(`http://127.0.0.1:${port}/api/v1/stream`).catch(() => null))?.status, { timeout: 60_000 })
    .toBe(401);
  return { port, stop: () => child.kill() };
}

test.describe("live stream", () => {
  test("readings posted while the connection is cut are shown after it comes back, without a refetch", async ({
    page,
    request,
  }) => {
    const token = addDevice(`e2e-live-${test.info().project.name}`);
    // A room that sorts first, so its legend entry is easy to find.
    const room = unique("Aaa live", test.info().project.name);
    await post(request, token, [
      { sensor: "live.temp", kind: "temperature", room, value: 20, at: minutesAgo(10) },
      { sensor: "live.temp", value: 20.5, at: minutesAgo(5) },
    ]);

    const link = await relay(Number(new URL(test.info().project.use.baseURL!).port));
    const { notReloaded, errors } = await openLive(page, `${link.url}/temperature`);
    const legend = page.locator(".legend li", { hasText: room }).first();
    await expect(legend).toContainText("20.5 °C");
    // A reading while connected, so the page has the id of a reading, not only hello's.
    await post(request, token, [{ sensor: "live.temp", value: 21.3 }]);
    await expect(legend).toContainText("21.3 °C");

    const chart = page.getByRole("img", { name: "Temperature by room" });
    const before = await canvasImage(chart);
    let refetches = 0;
    page.on("request", (r) => {
      if (r.url().includes("load_climate")) refetches++;
    });

    // Cut the connections: the streaming fetch fails and the page shows it is reconnecting.
    link.cut();
    await expect(page.locator("[data-live]")).toHaveAttribute("data-live", "connecting");

    // Stored while the page is cut off: a peak, then a last value. Only the last would show
    // if the peak were lost, and the day's range would stop at 21.3.
    await post(request, token, [{ sensor: "live.temp", value: 29.5 }]);
    await post(request, token, [{ sensor: "live.temp", value: 23.4 }]);

    link.restore();
    await expect(page.locator("[data-live]")).toHaveAttribute("data-live", "open", { timeout: 30_000 });
    await expect(legend).toContainText("23.4 °C");
    await expect(legend).toContainText("–29.5 °C");
    await expect.poll(() => canvasImage(chart), { message: "the replayed readings are drawn" }).not.toBe(before);

    // And live readings carry on after the replay.
    await post(request, token, [{ sensor: "live.temp", value: 22.2 }]);
    await expect(legend).toContainText("22.2 °C");

    expect(refetches, "the history was not fetched again: the server replayed the missed readings").toBe(0);
    await notReloaded();
    // The cut itself, as Chromium reports it.
    expect(errors.filter((e) => !/ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_CONNECTION|ERR_EMPTY_RESPONSE/.test(e))).toEqual([]);
    link.close();
  });

  test("a reconnect that lands on another server is told to resync, and the page refetches", async ({ page, request }) => {
    const token = addDevice(`e2e-resync-${test.info().project.name}`);
    const room = unique("Aaa resync", test.info().project.name);
    await post(request, token, [{ sensor: "resync.temp", kind: "temperature", room, value: 19.5, at: minutesAgo(5) }]);
    const other = await secondServer();
    try {
      const link = await relay(Number(new URL(test.info().project.use.baseURL!).port));
      const { notReloaded } = await openLive(page, `${link.url}/temperature`);
      const legend = page.locator(".legend li", { hasText: room }).first();
      await expect(legend).toContainText("19.5 °C");
      let refetches = 0;
      page.on("request", (r) => {
        if (r.url().includes("load_climate")) refetches++;
      });

      link.cut();
      await expect(page.locator("[data-live]")).toHaveAttribute("data-live", "connecting");
      // Stored through the first server; the second has not streamed it and cannot replay it.
      await post(request, token, [{ sensor: "resync.temp", value: 24.6 }]);
      link.restore(other.port);
      await expect(page.locator("[data-live]")).toHaveAttribute("data-live", "open", { timeout: 30_000 });
      await expect(legend).toContainText("24.6 °C");
      expect(refetches, "the page fetched its history again after resync").toBeGreaterThan(0);
      await notReloaded();
      link.close();
    } finally {
      other.stop();
    }
  });
});
