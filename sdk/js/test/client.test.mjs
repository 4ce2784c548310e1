// The client as shipped (the minified bundle) against in-memory twins of the browser.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient } from "../dist/vekst.min.mjs";
import { CONFIG, fakeFetch, fakeWindow, sleep, until } from "./fakes.mjs";

// Most tests are about a visitor who has consented (the default is no consent).
const FAST = {
  refreshInterval: 0,
  flushInterval: 10,
  backoff: 5,
  readyTimeout: 300,
  consent: true,
};

function online(overrides = {}, fetchOptions = {}, windowOptions = {}) {
  const fetch = fakeFetch(fetchOptions);
  const win = fakeWindow(windowOptions);
  const client = createClient({
    apiUrl: "https://ab.example/",
    sdkKey: "vk_sdk_test",
    fetch,
    global: win,
    ...FAST,
    ...overrides,
  });
  return { client, fetch, win };
}

test("loads the config with the sdk key, then revalidates with its ETag", async () => {
  const { client, fetch, win } = online({ refreshInterval: 0.05 });
  assert.equal(await client.ready(), true);
  assert.equal(fetch.calls[0].url, "https://ab.example/v1/sdk/config");
  assert.equal(fetch.calls[0].headers.Authorization, "Bearer vk_sdk_test");
  await until(() => fetch.calls.length >= 2);
  assert.equal(fetch.calls[1].headers["If-None-Match"], '"v1"');
  const assigned = client.assign("cta-text");
  assert.equal(assigned.inExperiment, true);
  assert.ok(["Add to cart", "Buy now"].includes(assigned.payload.text));
  win.show(); // becoming visible again refreshes at once
  assert.equal(fetch.calls.at(-1).url, "https://ab.example/v1/sdk/config");
  client.close();
});

test("assign returns the variant the evaluator computes, with a frozen result", async () => {
  const { client } = online();
  await client.ready();
  const result = client.assign("cta-text", "visitor-1");
  assert.deepEqual(Object.keys(result), [
    "experiment",
    "variant",
    "payload",
    "inExperiment",
    "reason",
  ]);
  assert.ok(Object.isFrozen(result) && Object.isFrozen(result.payload));
  assert.equal(client.assign("checkout-onepage", "visitor-1").variant, "one-page"); // stopped, winner
  assert.equal(client.assign("checkout-onepage", "visitor-1").inExperiment, false);
  assert.deepEqual(client.assign("nope", "visitor-1").reason, "unknown_experiment");
  client.close();
});

test("starts from a config object without any network (server-side rendering)", async () => {
  const win = fakeWindow();
  const client = createClient({ config: CONFIG, global: win, ...FAST });
  assert.equal(await client.ready(), true);
  assert.equal(client.assign("cta-text", "visitor-7").inExperiment, true);
  client.track("purchase", { value: 649 });
  assert.equal(win.warnings.length, 1); // no apiUrl/sdkKey: said once, nothing sent
  assert.equal(win.warnings[0], "vekst: createClient: apiUrl or sdkKey is invalid");
});

test("a missing key, a secret key, an unreachable API or a bad config never break assign", async () => {
  // Admin and server keys are secrets: a page that holds one gives it to every visitor.
  const keys = [undefined, "vk_admin_secret", "vk_server_secret"];
  for (const options of keys.map((sdkKey) => ({ sdkKey }))) {
    const { client, fetch, win } = online(options);
    assert.equal(await client.ready(), false);
    assert.equal(fetch.calls.length, 0);
    assert.deepEqual(
      [client.assign("cta-text").variant, client.assign("cta-text").inExperiment],
      [null, false],
    );
    assert.equal(win.warnings.length, 1);
  }
  const down = online({ refreshInterval: 0.02 }, { configStatus: "down" });
  assert.equal(await down.client.ready(), false);
  await sleep(60);
  assert.equal(down.client.assign("cta-text").reason, "not_ready");
  assert.equal(down.win.warnings.length, 1); // logged once, however often it is retried
  // A refused CORS preflight looks like this too: the line names the server's setting.
  assert.equal(
    down.win.warnings[0],
    "vekst: config: Failed to fetch (VEKST_CORS_ORIGINS?)",
  );
  down.client.close();

  const broken = online({}, { config: { version: 2, experiments: [] } });
  assert.equal(await broken.client.ready(), false);
  assert.equal(broken.win.warnings[0], "vekst: config: config.version is invalid");

  const badWeight = structuredClone(CONFIG);
  badWeight.experiments[0].variants[1].weight = -1;
  const partly = online({}, { config: badWeight });
  await partly.client.ready();
  const control = partly.client.assign("cta-text");
  assert.deepEqual(
    [control.variant, control.payload.text, control.inExperiment],
    ["control", "Add to cart", false],
  );
  assert.equal(
    partly.win.warnings[0],
    "vekst: config: experiments[0].variants[1].weight is invalid",
  );
  assert.equal(partly.client.assign("checkout-onepage").variant, "one-page"); // the others still serve
  partly.client.close();
});

test("bad input gives the control and one console line, never an exception", async () => {
  const { client, win, fetch } = online();
  await client.ready();
  for (const [unit, attributes] of [
    [" ", undefined],
    [42, undefined],
    ["v", { nested: { a: 1 } }],
    ["v", "x"],
  ]) {
    const result = client.assign("cta-text", unit, attributes);
    assert.deepEqual(
      [result.variant, result.inExperiment, result.reason],
      ["control", false, "invalid_input"],
    );
  }
  assert.equal(client.assign({}).variant, null);
  client.track("Bad Name!");
  client.track("purchase", { value: "649" });
  client.track("purchase", { properties: { basket: [1, 2] } });
  client.track("purchase", { value: Infinity });
  assert.equal(win.warnings.length, 6); // one line per distinct problem
  // Each names the call and the field, whose rules docs/sdks.md lists.
  const said = /^vekst: (assign\('cta-text'\)|track\('[^']+'\)): \S+ is invalid$/;
  assert.ok(win.warnings.every((line) => said.test(line)), win.warnings.join("\n"));
  await client.flush();
  assert.equal(fetch.events().length, 0);
  client.close();
});

test("the anonymous id lives in a first-party cookie with the configured name and lifetime", async () => {
  const { client, win } = online({ idName: "shop_ab", idDays: 30 });
  await client.ready();
  const id = client.unitId;
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(win.cookies.get("shop_ab"), id);
  assert.match(win.document.lastCookie, /Max-Age=2592000; Path=\/; SameSite=Lax; Secure$/);
  const again = createClient({ config: CONFIG, global: win, idName: "shop_ab", ...FAST });
  assert.equal(again.unitId, id); // a reload keeps the visitor
  assert.deepEqual(again.assign("cta-text").variant, client.assign("cta-text").variant);
  client.close();
});

test("consent is opt-in: by default no cookie is read or written and nothing is sent", async () => {
  // A visitor who consented on an earlier visit: the id is there, but not read before consent.
  const cookies = new Map([["vekst_id", "0123456789abcdef0123456789abcdef"]]);
  const win = fakeWindow({ cookies });
  const fetch = fakeFetch();
  const { consent, ...options } = { ...FAST, apiUrl: "https://ab.example", sdkKey: "vk_sdk_t" };
  assert.equal(consent, true);
  const client = createClient({ ...options, fetch, global: win });
  await client.ready();
  assert.equal(client.assign("cta-text").reason, "no_consent");
  assert.equal(client.unitId, null);
  client.track("purchase", { value: 649 });
  assert.deepEqual([...cookies.keys()], ["vekst_id"]);
  assert.equal(win.document.lastCookie, undefined); // nothing written
  client.setConsent(true); // the same visitor again, with the same id
  assert.equal(client.unitId, "0123456789abcdef0123456789abcdef");
  assert.equal(client.assign("cta-text").inExperiment, true);
  assert.deepEqual([...cookies.keys()], ["vekst_id", "vekst_id_seen"]);
  await client.flush();
  assert.deepEqual(
    fetch.events().map((e) => [e.type, e.unit_id]),
    [["exposure", "0123456789abcdef0123456789abcdef"]],
  );
  client.close();
});

test("without consent no id is stored and nothing is sent; consent can be given and withdrawn", async () => {
  const { client, win, fetch } = online({ consent: false });
  await client.ready();
  const result = client.assign("cta-text");
  assert.deepEqual(
    [result.variant, result.inExperiment, result.reason],
    ["control", false, "no_consent"],
  );
  client.track("purchase", { value: 1 });
  assert.equal(client.unitId, null);
  assert.equal(win.cookies.size, 0);
  client.setConsent(true);
  assert.equal(client.assign("cta-text").inExperiment, true);
  assert.ok(win.cookies.has("vekst_id"));
  client.setConsent(false);
  assert.equal(win.cookies.size, 0);
  await client.flush();
  assert.equal(fetch.events().length, 1); // only the exposure made while consent was given
  client.close();
});

test("a shop-given unit id needs no cookie", async () => {
  const { client, win, fetch } = online({ unitId: "customer-8731", consent: false });
  await client.ready();
  assert.equal(client.assign("cta-text").inExperiment, true);
  client.track("purchase", { value: 649 });
  await client.flush();
  assert.deepEqual(
    fetch.events().map((e) => e.unit_id),
    ["customer-8731", "customer-8731"],
  );
  assert.equal(win.cookies.size, 0);
  client.close();
});

test("one exposure per visitor and experiment, also across reloads", async () => {
  const cookies = new Map();
  const first = online({}, {}, { cookies });
  await first.client.ready();
  for (let i = 0; i < 3; i++) first.client.assign("cta-text");
  first.client.assign("cta-text", "someone-else");
  first.client.assign("checkout-onepage"); // stopped: no exposure
  await first.client.flush();
  const exposures = first.fetch.events();
  assert.equal(exposures.length, 2);
  const mine = exposures[0];
  assert.deepEqual(Object.keys(mine).sort(), [
    "event_id",
    "experiment",
    "timestamp",
    "type",
    "unit_id",
    "variant",
  ]);
  assert.equal(mine.type, "exposure");
  assert.equal(mine.unit_id, first.client.unitId);
  assert.match(mine.event_id, /^[0-9a-f]{32}$/);
  assert.ok(Math.abs(mine.timestamp - Date.now()) < 5000);
  first.client.close();

  const reload = online({}, {}, { cookies });
  await reload.client.ready();
  reload.client.assign("cta-text");
  await reload.client.flush();
  assert.equal(reload.fetch.events().length, 0);
  reload.client.close();
});

test("conversions are batched in the wire format of docs/events.md", async () => {
  const { client, fetch } = online({ maxBatch: 100, unitId: "u-1" });
  await client.ready();
  for (let i = 0; i < 250; i++) client.track("add_to_cart");
  client.track("purchase", {
    value: 649.5,
    properties: { payment: "vipps", items: 2 },
    unitId: "u-2",
  });
  await client.flush();
  assert.deepEqual(
    fetch.posts().map((p) => p.body.events.length),
    [100, 100, 51],
  );
  const post = fetch.posts()[0];
  assert.equal(post.method, "POST");
  assert.deepEqual(post.headers, {
    Authorization: "Bearer vk_sdk_test",
    "Content-Type": "application/json",
  });
  const purchase = fetch.events().at(-1);
  assert.deepEqual(
    { ...purchase, event_id: 0, timestamp: 0 },
    {
      type: "conversion",
      unit_id: "u-2",
      name: "purchase",
      value: 649.5,
      properties: { payment: "vipps", items: 2 },
      event_id: 0,
      timestamp: 0,
    },
  );
  assert.equal(new Set(fetch.events().map((e) => e.event_id)).size, 251);
  client.close();
});

test("failed sends are retried with backoff and the same event ids; then dropped with a log", async () => {
  const { client, fetch, win } = online(
    { unitId: "u-1", maxRetries: 3 },
    { events: ["down", 503, 429] },
  );
  await client.ready();
  client.track("purchase", { value: 1 });
  await until(() => fetch.posts().length === 4);
  const ids = fetch.posts().map((p) => p.body.events[0].event_id);
  assert.equal(new Set(ids).size, 1);
  assert.equal(win.warnings.length, 0);

  const hopeless = online({ unitId: "u-1", maxRetries: 2 }, { events: [503, 503, 503, 503] });
  await hopeless.client.ready();
  hopeless.client.track("purchase");
  await until(() => hopeless.win.warnings.length === 1);
  assert.equal(hopeless.fetch.posts().length, 3);
  assert.match(hopeless.win.warnings[0], /dropped 1/);

  const refused = online({ unitId: "u-1" }, { events: [400] });
  await refused.client.ready();
  refused.client.track("purchase");
  await until(() => refused.win.warnings.length === 1);
  await sleep(30);
  assert.equal(refused.fetch.posts().length, 1); // a 4xx is not retried
  client.close();
  hopeless.client.close();
  refused.client.close();
});

test("offline: nothing is sent, the queue is bounded, and going online sends it", async () => {
  const { client, fetch, win } = online({ unitId: "u-1", maxQueue: 5 });
  await client.ready();
  win.navigator.onLine = false;
  for (let i = 0; i < 8; i++) client.track("add_to_cart");
  await sleep(40);
  assert.equal(fetch.posts().length, 0);
  assert.equal(win.warnings.length, 1);
  win.navigator.onLine = true;
  win.emit("window", "online");
  await until(() => fetch.events().length === 5);
  client.close();
});

test("a hidden page sends its queue at once as a beacon, with the sdk key in the body", async () => {
  const { client, fetch, win } = online(
    { unitId: "u-1", flushInterval: 60000 },
    {},
    { beacon: true },
  );
  await client.ready();
  for (let i = 0; i < 100; i++) client.track("purchase", { properties: { note: "x".repeat(900) } });
  win.hide();
  assert.ok(win.beacons.length >= 1);
  assert.equal(fetch.posts().length, 0);
  for (const beacon of win.beacons) {
    assert.equal(beacon.url, "https://ab.example/v1/events/beacon");
    assert.equal(beacon.body.sdk_key, "vk_sdk_test");
    assert.ok(JSON.stringify(beacon.body.events).length <= 60000);
    assert.ok(beacon.body.events.every((e) => /^[0-9a-f]{32}$/.test(e.event_id)));
  }
  win.emit("window", "pagehide");
  await until(() => win.beacons.flatMap((b) => b.body.events).length === 100);
  client.close();
});

test("without a beacon (absent or refused) the hidden page's queue leaves with fetch keepalive", async () => {
  for (const beacon of [undefined, false]) {
    const { client, fetch, win } = online({ unitId: "u-1", flushInterval: 60000 }, {}, { beacon });
    await client.ready();
    for (let i = 0; i < 100; i++)
      client.track("purchase", { properties: { note: "x".repeat(900) } });
    win.hide();
    const posts = fetch.posts();
    assert.ok(posts.length >= 1 && posts.every((p) => p.keepalive === true));
    assert.ok(posts.every((p) => JSON.stringify(p.body).length <= 60050));
    assert.ok(
      posts.every(
        (p) => p.headers.Authorization === "Bearer vk_sdk_test" && !("sdk_key" in p.body),
      ),
    );
    win.emit("window", "pagehide");
    await until(() => fetch.events().length === 100);
    client.close();
  }
});

test("config overrides are published as digests and still force their units", async () => {
  const config = structuredClone(CONFIG);
  // The digest of "qa-anna" under salt 9f2c1d0e7a4b (sdk/testvectors.json).
  config.experiments[0].salt = "9f2c1d0e7a4b";
  config.experiments[0].override_hashes = { "4e4275902f9b6805": "buy-now" };
  const { client, fetch } = online({}, { config });
  await client.ready();
  const forced = client.assign("cta-text", "qa-anna");
  assert.deepEqual(
    [forced.variant, forced.inExperiment, forced.reason],
    ["buy-now", false, "override"],
  );
  assert.equal(client.assign("cta-text", "4e4275902f9b6805").reason, "split"); // not the id itself
  const own = online({ overrides: { "cta-text": { "qa-anna": "control" } } }, { config });
  await own.client.ready();
  assert.equal(own.client.assign("cta-text", "qa-anna").variant, "control"); // the code's wins
  await client.flush();
  assert.deepEqual(
    fetch.events().map((e) => e.unit_id),
    ["4e4275902f9b6805"],
  );
  client.close();
  own.client.close();
});

test("QA overrides through the URL only when enabled; no exposure for them", async () => {
  const search = "?vekst_qa=cta-text:buy-now,checkout-onepage:multi-step";
  const enabled = online({ qaParam: "vekst_qa" }, {}, { search });
  await enabled.client.ready();
  const forced = enabled.client.assign("cta-text");
  assert.deepEqual(
    [forced.variant, forced.inExperiment, forced.reason],
    ["buy-now", false, "override"],
  );
  assert.equal(enabled.client.assign("checkout-onepage").variant, "one-page"); // stopped: not overridable
  await enabled.client.flush();
  assert.equal(enabled.fetch.events().length, 0);
  enabled.client.close();

  const disabled = online({}, {}, { search });
  await disabled.client.ready();
  assert.equal(disabled.client.assign("cta-text").reason, "split");
  disabled.client.close();
});

test("bots get the control and send nothing, unless detection is switched off", async () => {
  for (const windowOptions of [
    { webdriver: true },
    { userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1)" },
  ]) {
    const { client, fetch, win } = online({}, {}, windowOptions);
    await client.ready();
    const result = client.assign("cta-text");
    assert.deepEqual(
      [result.variant, result.inExperiment, result.reason],
      ["control", false, "bot"],
    );
    assert.equal(client.assign("checkout-onepage").variant, "one-page");
    client.track("purchase", { value: 1 });
    await client.flush();
    assert.equal(fetch.posts().length, 0);
    assert.equal(win.cookies.size, 0);
    client.close();
  }
  const { client, win } = online({ botDetection: false }, {}, { webdriver: true });
  await client.ready();
  assert.equal(client.assign("cta-text").inExperiment, true);
  assert.deepEqual(win.warnings, []);
  client.close();
});

test("a bot is told once, in the console, why and which option switches detection off", async () => {
  for (const [windowOptions, why] of [
    [{ webdriver: true }, "webdriver"],
    [{ userAgent: "Mozilla/5.0 HeadlessChrome/130.0" }, "Mozilla/5.0 HeadlessChrome/130.0"],
  ]) {
    const { client, win } = online({}, {}, windowOptions);
    await client.ready();
    client.assign("cta-text");
    client.assign("checkout-onepage");
    client.track("purchase", { value: 1 });
    assert.deepEqual(win.warnings, [
      `vekst: treated as a bot (${why}); see botDetection`,
    ]);
    client.close();
  }
});

test("a window without cookies, console or fetch still assigns", async () => {
  const win = fakeWindow();
  Object.defineProperty(win.document, "cookie", {
    get() {
      throw new Error("blocked");
    },
    set() {
      throw new Error("blocked");
    },
  });
  delete win.console;
  const client = createClient({
    config: CONFIG,
    global: win,
    apiUrl: "https://ab.example",
    sdkKey: "vk_sdk_x",
    ...FAST,
  });
  assert.equal(client.assign("cta-text").inExperiment, true);
  const bare = createClient({
    config: CONFIG,
    global: {},
    apiUrl: "https://ab.example",
    sdkKey: "vk_sdk_x",
  });
  assert.equal(bare.assign("cta-text", "visitor-1").inExperiment, true);
  client.close();
  bare.close();
});

test("ready() gives up after readyTimeout while the API hangs; the config still counts when it comes", async () => {
  let answer;
  const hanging = () => new Promise((resolve) => (answer = resolve));
  const fetch = fakeFetch();
  const client = createClient({
    apiUrl: "https://ab.example",
    sdkKey: "vk_sdk_test",
    global: fakeWindow(),
    ...FAST,
    readyTimeout: 30,
    fetch: (url, init) => (url.endsWith("/v1/sdk/config") ? hanging() : fetch(url, init)),
  });
  const started = Date.now();
  assert.equal(await client.ready(), false);
  assert.ok(Date.now() - started < 1000);
  assert.equal(client.assign("cta-text").reason, "not_ready");
  answer(await fetch("https://ab.example/v1/sdk/config", { headers: {} }));
  await until(() => client.assign("cta-text").reason === "split");
  assert.equal(await client.ready(), true);
  client.close();
});

test("a full batch leaves at once, without waiting for the flush interval", async () => {
  const { client, fetch } = online({ unitId: "u-1", maxBatch: 10, flushInterval: 60000 });
  await client.ready();
  client.track("add_to_cart");
  await sleep(30);
  assert.equal(fetch.posts().length, 0); // one event waits for the interval
  for (let i = 0; i < 9; i++) client.track("add_to_cart");
  await until(() => fetch.events().length === 10);
  client.close();
});
