// createClient: config loading, local assignment, one exposure per visitor, conversions.
// Nothing here may break the shop's page: every entry point catches, logs once and falls back.
import { compileConfig, result } from "./evaluator.js";
import { createSender, randomHex } from "./events.js";
import { murmur3 } from "./hash.js";
import { cookieStore } from "./identity.js";
import { checkAttributes, checkUnitId, isNumber, need } from "./inputs.js";

const BOT = /bot|crawl|spider|slurp|facebookexternalhit|headless/i;
const SLUG = /^[a-z0-9_-]{1,64}$/;
// The server logs a refused origin under the same setting's name.
const UNREACHABLE = "(origin not in VEKST_CORS_ORIGINS?)";
const MAX_SEEN = 20;

export function createClient(options) {
  const o = {
    idName: "vekst_id",
    idDays: 365,
    refreshInterval: 60,
    readyTimeout: 3000,
    flushInterval: 2000,
    maxBatch: 100,
    maxQueue: 1000,
    maxRetries: 5,
    backoff: 1000,
    botDetection: true,
    ...options,
  };
  const g = o.global || globalThis;
  const logged = new Set();
  const warn = (message) => {
    if (!logged.has(message)) {
      logged.add(message);
      g.console?.warn(`vekst: ${message}`);
    }
  };
  const nav = g.navigator;
  // Why the visitor is taken for a bot (or false); said once, so an automated test of the shop
  // knows why it sees the control and sends nothing.
  const bot =
    o.botDetection &&
    (nav?.webdriver ? "webdriver" : BOT.test(nav?.userAgent) && nav.userAgent);
  if (bot) warn(`treated as a bot (${bot}); botDetection: false turns this off`);
  const store = cookieStore(g, o.idDays, warn);
  const seenName = `${o.idName}_seen`;
  const qa = {};
  // Opt-in: without consent no cookie is read or written and no id is made.
  let consent = !!o.consent;
  let visitor = null;
  let seen = new Set();
  const exposed = new Map();
  let compiled = null;
  let etag = null;
  let timer = null;
  let sender = null;
  let settle;
  const loaded = new Promise((resolve) => (settle = resolve));

  function apply(config) {
    try {
      compiled = compileConfig(config, o.overrides || {}, warn);
    } catch (error) {
      warn(`refused the config: ${error.message}`);
    }
  }

  function visitorId() {
    if (o.unitId != null) return String(o.unitId);
    if (consent && !visitor) {
      visitor = store.get(o.idName) || randomHex(g);
      store.set(o.idName, visitor);
      seen = new Set((store.get(seenName) || "").split(","));
    }
    return consent ? visitor : null;
  }

  // In memory per experiment (unit -> variant, without allocating on a repeat call); for the
  // anonymous visitor also as short marks in a cookie (the last 20), so a reload does not
  // expose again.
  function firstExposure(key, variant, unit) {
    let units = exposed.get(key);
    if (!units || units.size > 1e5) exposed.set(key, (units = new Map()));
    if (units.get(unit) === variant) return false;
    units.set(unit, variant);
    if (unit !== visitor) return true;
    const mark = murmur3(`${key}\0${variant}`).toString(36);
    if (seen.has(mark)) return false;
    seen.add(mark);
    store.set(seenName, [...seen].slice(-MAX_SEEN).join());
    return true;
  }

  async function refresh() {
    try {
      const headers = { Authorization: `Bearer ${o.sdkKey}` };
      if (etag) headers["If-None-Match"] = etag;
      // A refused CORS preflight reaches the page only as a network error ("Failed to fetch").
      const response = await o.fetch(`${o.apiUrl}/v1/sdk/config`, { headers }).catch((error) =>
        need(0, error.message, UNREACHABLE),
      );
      need(response.status === 200 || response.status === 304, "HTTP", response.status);
      if (response.status === 200) {
        apply(await response.json());
        etag = response.headers.get("ETag");
      }
    } catch (error) {
      warn(`could not load the config: ${error.message}`);
    }
    settle();
  }

  function start() {
    if (o.config) apply(o.config);
    if (compiled) settle();
    for (const pair of o.qaParam && g.location
      ? new URLSearchParams(g.location.search).getAll(o.qaParam).join().split(",")
      : []) {
      const [experiment, variant] = pair.split(":");
      qa[experiment] = variant;
    }
    o.fetch ||= g.fetch?.bind(g);
    const key = String(o.sdkKey || "");
    if (!o.apiUrl || !key || /^vk_(admin|server)_/.test(key) || !o.fetch) {
      settle();
      return warn("apiUrl and an sdk key (not an admin or server key) are needed");
    }
    o.apiUrl = String(o.apiUrl).replace(/\/+$/, "");
    sender = createSender({
      ...o,
      g,
      warn,
      key,
      url: `${o.apiUrl}/v1/events`,
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    });
    refresh();
    if (o.refreshInterval > 0) {
      timer = setInterval(refresh, o.refreshInterval * 1000);
      timer.unref?.();
    }
    const doc = g.document;
    doc?.addEventListener("visibilitychange", () =>
      doc.visibilityState === "hidden" ? sender.flushHidden() : refresh(),
    );
    g.addEventListener?.("pagehide", sender.flushHidden);
    g.addEventListener?.("online", sender.wake);
  }

  const client = {
    /** The variant of `experimentKey` for the visitor (or `unitId`); never throws. */
    assign(experimentKey, unitId, attributes) {
      const experiment = compiled?.get(experimentKey);
      // (Outside the try: from here on the catch always has an experiment to serve.)
      if (!experiment) {
        const reason = compiled ? "unknown_experiment" : "not_ready";
        return result(experimentKey, null, null, false, reason);
      }
      try {
        if (bot) return experiment.fixed("bot");
        const unit = unitId ?? visitorId();
        if (unit === null) return experiment.fixed("no_consent");
        const assigned = experiment.assign(unit, attributes, qa[experimentKey]);
        if (
          assigned.inExperiment &&
          sender &&
          firstExposure(experimentKey, assigned.variant, unit)
        ) {
          sender.enqueue({
            type: "exposure",
            unit_id: unit,
            experiment: experimentKey,
            variant: assigned.variant,
          });
        }
        return assigned;
      } catch (error) {
        warn(`internal error in assign: ${error}`);
        return experiment.fixed("error");
      }
    },

    /** Queue a conversion (`purchase` with `{value: 649}`); bad input is logged and dropped. */
    track(name, { value, properties, unitId } = {}) {
      try {
        if (bot || !sender) return;
        const unit = unitId ?? visitorId();
        if (unit === null) return;
        checkUnitId(unit, "unitId");
        need(SLUG.test(name), "name", "must be 1-64 of a-z, 0-9, - and _");
        need(value == null || isNumber(value), "value", "must be a finite number");
        const event = { type: "conversion", unit_id: unit, name };
        if (value != null) event.value = value;
        if (properties != null) {
          checkAttributes(properties, "properties");
          event.properties = { ...properties };
        }
        sender.enqueue(event);
      } catch (error) {
        warn(`dropped event '${name}': ${error.message}`);
      }
    },

    /** Resolves to true once a config is loaded, false when `readyTimeout` ms pass first. */
    ready: () =>
      Promise.race([loaded, new Promise((resolve) => setTimeout(resolve, o.readyTimeout))]).then(
        () => !!compiled,
      ),

    /** Send queued events now; resolves when they are sent or a send failed (it is retried). */
    flush: async () => sender?.flush(),

    /** Give or withdraw consent to keep the anonymous id; withdrawing deletes it. */
    setConsent(given) {
      consent = !!given;
      if (!consent) {
        visitor = null;
        store.set(o.idName, null);
        store.set(seenName, null);
      }
    },

    /** The unit id used when none is passed: the shop's, the stored anonymous one, or null. */
    get unitId() {
      return visitorId();
    },

    /** Stop refreshing the config and send what is queued (as a beacon). */
    close() {
      clearInterval(timer);
      sender?.close();
    },
  };

  try {
    start();
  } catch (error) {
    warn(`could not start: ${error}`);
    settle();
  }
  return client;
}
