// In-memory twins of the browser pieces the SDK touches: a window with a cookie jar, the
// page's visibility and connectivity, a console that records, and a scripted fetch.

/** A config experiment: running on all traffic, untargeted, outside layers, unless `changes`. */
export function configExperiment(key, salt, variants, changes = {}) {
  return {
    key,
    salt,
    status: "running",
    unit_type: "visitor",
    variants,
    traffic: 1,
    targeting: null,
    layer: null,
    override_hashes: {},
    winner: null,
    ...changes,
  };
}

export const CONFIG = {
  version: 1,
  generated_at: "2026-01-01T00:00:00Z",
  experiments: [
    configExperiment("cta-text", "5f1e0c2a9b7d4e31", [
      { key: "control", weight: 1, payload: { text: "Add to cart" } },
      { key: "buy-now", weight: 1, payload: { text: "Buy now" } },
    ]),
    configExperiment(
      "checkout-onepage",
      "0a1b2c3d4e5f6a7b",
      [
        { key: "multi-step", weight: 1, payload: { layout: "multi" } },
        { key: "one-page", weight: 1, payload: { layout: "one" } },
      ],
      { status: "stopped", winner: "one-page" },
    ),
  ],
};

/**
 * A window. `beacon`: undefined for a browser without navigator.sendBeacon, true for one that
 * queues every beacon, false for one that refuses them (over its quota); sent beacons are
 * recorded in `beacons`.
 */
export function fakeWindow({
  cookies = new Map(),
  search = "",
  webdriver = false,
  userAgent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
  protocol = "https:",
  referrer = "",
  userAgentData,
  beacon,
} = {}) {
  const listeners = [];
  const warnings = [];
  const beacons = [];
  const navigator = { webdriver, userAgent, userAgentData, onLine: true };
  if (beacon !== undefined) {
    navigator.sendBeacon = function (url, body) {
      if (this !== navigator) throw new TypeError("Illegal invocation");
      if (beacon) beacons.push({ url, body: JSON.parse(body) });
      return beacon;
    };
  }
  const on = (target) => (type, listener) => listeners.push({ target, type, listener });
  const document = {
    referrer,
    visibilityState: "visible",
    get hidden() {
      return document.visibilityState === "hidden";
    },
    addEventListener: on("document"),
    get cookie() {
      return [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    },
    set cookie(text) {
      const [pair, ...attributes] = text.split("; ");
      const at = pair.indexOf("=");
      const maxAge = attributes.find((a) => a.startsWith("Max-Age="));
      if (maxAge === "Max-Age=0") cookies.delete(pair.slice(0, at));
      else cookies.set(pair.slice(0, at), pair.slice(at + 1));
      document.lastCookie = text;
    },
  };
  const win = {
    document,
    cookies,
    warnings,
    navigator,
    beacons,
    location: {
      href: `${protocol}//shop.example/product/42${search}`,
      hostname: "shop.example",
      protocol,
      search,
    },
    console: { warn: (message) => warnings.push(message) },
    crypto: globalThis.crypto,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    addEventListener: on("window"),
    emit(target, type) {
      for (const entry of listeners)
        if (entry.target === target && entry.type === type) entry.listener({ type });
    },
    hide() {
      document.visibilityState = "hidden";
      win.emit("document", "visibilitychange");
    },
    show() {
      document.visibilityState = "visible";
      win.emit("document", "visibilitychange");
    },
  };
  return win;
}

function response(status, body, headers = {}) {
  return {
    status,
    headers: { get: (name) => headers[name] ?? null },
    json: async () => (typeof body === "string" ? JSON.parse(body) : body),
  };
}

/**
 * A fetch that records every call. `events` answers event posts in order (a number is a status,
 * "down" a network error), then 202; the config is served with an ETag and 304 on a match.
 */
export function fakeFetch({ config = CONFIG, configStatus = 200, events = [] } = {}) {
  const calls = [];
  const answers = [...events];
  const fetch = async (url, init = {}) => {
    const call = { url, ...init, body: init.body ? JSON.parse(init.body) : undefined };
    calls.push(call);
    if (url.endsWith("/v1/sdk/config")) {
      if (configStatus === "down") throw new TypeError("Failed to fetch");
      if (configStatus !== 200) return response(configStatus, {});
      if (init.headers["If-None-Match"] === '"v1"') return response(304, null, { ETag: '"v1"' });
      return response(200, config, { ETag: '"v1"' });
    }
    const answer = answers.length ? answers.shift() : 202;
    if (answer === "down") throw new TypeError("Failed to fetch");
    return response(answer, { accepted: call.body.events.length, duplicates: 0, rejected: [] });
  };
  fetch.calls = calls;
  fetch.posts = () => calls.filter((call) => call.url.endsWith("/v1/events"));
  fetch.events = () => fetch.posts().flatMap((call) => call.body.events);
  return fetch;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it is true or `ms` pass (events leave on timers). */
export async function until(check, ms = 2000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(5);
  }
}
