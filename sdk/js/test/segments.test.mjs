// Exposures with segment attributes: the segments build sends the attributes an experiment names
// as dimensions (the shop's, and device, source and visitor_type it knows), and nothing else;
// the core build sends exposures as before.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient as createCore } from "../dist/vekst.min.mjs";
import { createClient } from "../dist/vekst-segments.min.mjs";
import { CONFIG, configExperiment, fakeFetch, fakeWindow, until } from "./fakes.mjs";

const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

const VARIANTS = [
  { key: "control", weight: 1, payload: null },
  { key: "treatment", weight: 1, payload: null },
];
const SEGMENTED = {
  version: 1,
  experiments: [
    ...CONFIG.experiments,
    configExperiment("checkout", "9a8b7c6d5e4f3a2b", VARIANTS, {
      dimensions: ["device", "market", "visitor_type", "source"],
    }),
    configExperiment("banner", "1a2b3c4d5e6f7a8b", VARIANTS, { dimensions: [] }),
  ],
};

/** A client of `build` on a page; resolves to the exposures it sent for `assign(...)` calls. */
async function exposures(build, calls, { consent = true, cookies, windowOptions = {} } = {}) {
  const fetch = fakeFetch({ config: SEGMENTED });
  const win = fakeWindow({
    userAgent: IPHONE,
    referrer: "https://www.google.no/",
    cookies,
    ...windowOptions,
  });
  const client = build({
    apiUrl: "https://ab.example",
    sdkKey: "vk_sdk_test",
    fetch,
    global: win,
    consent,
    refreshInterval: 0,
    flushInterval: 10,
  });
  await client.ready();
  for (const args of calls) assert.equal(client.assign(...args).inExperiment, true);
  await client.flush();
  await until(() => fetch.events().length === calls.length);
  client.close();
  const bodies = fetch.posts().map((call) => JSON.stringify(call.body));
  return { events: fetch.events(), bodies, win };
}

test("only the attributes the experiment names as dimensions leave the page", async () => {
  const { events } = await exposures(createClient, [
    ["checkout", undefined, { market: "NO", email: "kari@example.no", cart_value: 649 }],
  ]);
  assert.deepEqual(events[0].attributes, {
    device: "mobile",
    market: "NO",
    visitor_type: "new",
    source: "search",
  });
});

test("the shop's attributes win over the ones the SDK knows", async () => {
  const { events } = await exposures(createClient, [
    ["checkout", undefined, { device: "kiosk", source: "email", visitor_type: "vip" }],
  ]);
  assert.deepEqual(events[0].attributes, {
    device: "kiosk",
    visitor_type: "vip",
    source: "email",
  });
});

test("an experiment without dimensions sends its exposure as the core build does", async () => {
  const calls = [
    ["cta-text", "visitor-1", { market: "NO", device: "mobile" }],
    ["banner", "visitor-1", { market: "NO" }],
  ];
  const segments = await exposures(createClient, calls);
  const core = await exposures(createCore, calls);
  for (const event of segments.events) assert.equal("attributes" in event, false);
  const strip = (body) => body.replace(/"(event_id|timestamp)":("[0-9a-f]+"|\d+)/g, "");
  assert.deepEqual(segments.bodies.map(strip), core.bodies.map(strip));
  assert.doesNotMatch(segments.bodies.join(), /attributes/);
});

test("the core build sends no attributes, whatever the experiment names", async () => {
  const { events } = await exposures(createCore, [["checkout", undefined, { market: "NO" }]]);
  assert.equal("attributes" in events[0], false);
});

test("visitor_type: returning with an id cookie from before, absent without consent", async () => {
  const cookies = new Map([["vekst_id", "0123456789abcdef0123456789abcdef"]]);
  const returning = await exposures(createClient, [["checkout", undefined, { market: "SE" }]], {
    cookies,
  });
  assert.equal(returning.events[0].unit_id, "0123456789abcdef0123456789abcdef");
  assert.equal(returning.events[0].attributes.visitor_type, "returning");

  // Without consent only a shop-given unit id is exposed, and no visitor_type is known.
  const anonymous = await exposures(createClient, [["checkout", "customer-42", { market: "SE" }]], {
    consent: false,
  });
  assert.deepEqual(anonymous.events[0].attributes, {
    device: "mobile",
    market: "SE",
    source: "search",
  });
  assert.equal(anonymous.win.cookies.size, 0); // nothing was read or written
});

test("a page reached from the shop itself sends no source", async () => {
  const { events } = await exposures(createClient, [["checkout", "customer-7"]], {
    windowOptions: {
      referrer: "https://shop.example/cart",
      userAgent: "Mozilla/5.0 (X11; Linux x86_64)",
    },
  });
  // (Nor a visitor_type: the shop's own unit id is not the anonymous visitor.)
  assert.deepEqual(events[0].attributes, { device: "desktop" });
});

test("a malformed dimensions list leaves the experiment out, as the Python SDK does", () => {
  const win = fakeWindow();
  const client = createClient({
    global: win,
    consent: true,
    config: {
      version: 1,
      experiments: [
        configExperiment("checkout", "9a8b7c6d5e4f3a2b", VARIANTS, { dimensions: "device" }),
      ],
    },
  });
  assert.equal(client.assign("checkout", "u1").reason, "invalid_config");
  assert.match(win.warnings.join(), /experiments\[0\]\.dimensions is invalid/);
});

test("values the server cannot store are left out, not the exposure", async () => {
  const { events } = await exposures(createClient, [
    [
      "checkout",
      "customer-1",
      { market: "N\0O", device: "mobile\ud800", source: 2 ** 64, visitor_type: "vip" },
    ],
  ]);
  assert.deepEqual(events[0].attributes, { visitor_type: "vip" });
});
