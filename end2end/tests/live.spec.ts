import { expect, test } from "@playwright/test";
import { addDevice, canvasImage, minutesAgo, openLive, post, unique } from "./hearth";

// The live stream survives a cut: the browser reconnects with Last-Event-ID and the server
// replays what was stored meanwhile, so the page shows it without a reload and without
// fetching its history again.
test.describe("live stream", () => {
  test("readings posted while the connection is cut are shown after it comes back, without a refetch", async ({
    page,
    context,
    request,
  }) => {
    const token = addDevice(`e2e-live-${test.info().project.name}`);
    // A room that sorts first, so its legend entry is easy to find.
    const room = unique("Aaa live", test.info().project.name);
    await post(request, token, [
      { sensor: "live.temp", kind: "temperature", room, value: 20, at: minutesAgo(10) },
      { sensor: "live.temp", value: 20.5, at: minutesAgo(5) },
    ]);

    const { notReloaded, errors } = await openLive(page, "/temperature");
    const legend = page.locator(".legend li", { hasText: room }).first();
    await expect(legend).toContainText("20.5 °C");
    // A reading while connected, so the page has the id of a reading, not only hello's.
    await post(request, token, [{ sensor: "live.temp", value: 21 }]);
    await expect(legend).toContainText("21 °C", { timeout: 2_000 });

    const chart = page.getByRole("img", { name: "Temperature by room" });
    const before = await canvasImage(chart);
    let refetches = 0;
    page.on("request", (r) => {
      if (r.url().includes("load_climate")) refetches++;
    });

    // Cut the network: the streaming fetch fails and the page shows it is reconnecting.
    await context.setOffline(true);
    await expect(page.locator("main[data-live]")).toHaveAttribute("data-live", "connecting");

    // Stored while the page is cut off: a peak, then a last value. Only the last would show
    // if the peak were lost, and the day's range would stop at 21.
    await post(request, token, [{ sensor: "live.temp", value: 29.5 }]);
    await post(request, token, [{ sensor: "live.temp", value: 23.4 }]);
    await page.waitForTimeout(300);
    await expect(legend).toContainText("21 °C");

    await context.setOffline(false);
    await expect(page.locator("main[data-live]")).toHaveAttribute("data-live", "open", { timeout: 15_000 });
    await expect(legend).toContainText("23.4 °C");
    await expect(legend).toContainText("–29.5 °C");
    await expect.poll(() => canvasImage(chart), { message: "the replayed readings are drawn" }).not.toBe(before);

    // And live readings carry on after the replay.
    await post(request, token, [{ sensor: "live.temp", value: 22.2 }]);
    await expect(legend).toContainText("22.2 °C", { timeout: 2_000 });

    expect(refetches, "the history was not fetched again: the server replayed the missed readings").toBe(0);
    await notReloaded();
    expect(errors.filter((e) => !e.includes("ERR_INTERNET_DISCONNECTED"))).toEqual([]);
  });
});
