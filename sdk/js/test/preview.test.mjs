// A preview link (`?vekst_preview=<token>`) in the no-code build as shipped: the client loads the
// token's experiment from /v1/sdk/preview instead of the config (and not the config rendered
// into the page), and records nothing, whatever the page assigns or tracks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient } from "../dist/vekst-nocode.min.mjs";
import { CONFIG, fakeFetch, fakeWindow, until } from "./fakes.mjs";

const TOKEN = "cta-text:buy-now:4102444800:c2lnbmF0dXJlLW9mLXRoZS10ZXN0LXRva2VuLTAxMjM0NTY";

/** A window just good enough for autoApply (no element ever matches). */
function page(search) {
  const win = fakeWindow({ search });
  win.document.documentElement = {};
  win.MutationObserver = class {
    observe() {}
  };
  win.history = { pushState() {}, replaceState() {} };
  return win;
}

function start(search) {
  const events = fakeFetch();
  const previews = [];
  const fetch = async (url, init) => {
    if (!url.includes("/v1/sdk/preview?")) return events(url, init);
    previews.push(url);
    return { status: 200, headers: { get: () => null }, json: async () => CONFIG };
  };
  const win = page(search);
  const client = createClient({
    apiUrl: "https://ab.example",
    sdkKey: "vk_sdk_test",
    // (Rendered into the page: a preview must not start from it.)
    config: { version: 1, experiments: [] },
    autoApply: true,
    consent: true,
    refreshInterval: 0,
    readyTimeout: 300,
    flushInterval: 10,
    fetch,
    global: win,
  });
  return { client, previews, events, win };
}

test("a preview link loads its experiment from /v1/sdk/preview and records nothing", async () => {
  const { client, previews, events, win } = start(`?vekst_preview=${TOKEN}`);
  assert.equal(await client.ready(), true);
  assert.deepEqual(previews, [`https://ab.example/v1/sdk/preview?token=${TOKEN}`]);
  assert.deepEqual(events.calls, []); // not the config either
  const assigned = client.assign("cta-text", "visitor-1");
  assert.equal(assigned.inExperiment, true); // from the preview's document, not the page's
  client.track("purchase", { value: 649 });
  await client.flush();
  client.close();
  assert.deepEqual(events.events(), []);
  assert.deepEqual(win.beacons, []);
  assert.deepEqual(win.warnings, []);
});

test("without the parameter the page's config is used, then the API's", async () => {
  const { client, events } = start("");
  await client.ready();
  assert.equal(client.assign("cta-text", "visitor-1").reason, "unknown_experiment");
  await until(() => events.calls.some((call) => call.url.endsWith("/v1/sdk/config")));
});

test("without an apiUrl, autoApply still runs on a config passed in", async () => {
  const win = page("");
  const { pushState } = win.history;
  const client = createClient({ config: CONFIG, autoApply: true, global: win, readyTimeout: 50 });
  assert.equal(await client.ready(), true);
  assert.notEqual(win.history.pushState, pushState); // autoApply follows the page's navigation
  assert.deepEqual(win.warnings, ["vekst: createClient: apiUrl or sdkKey is invalid"]);
  client.close();
});
