// createClient: config loading, local assignment, one exposure per visitor, conversions.
// Nothing here may break the shop's page: every entry point catches, logs once and falls back.
// The client's state is made by small factories: the console warnings and the config (here),
// the visitor with its consent and exposures (identity.js) and the event sender (events.js).
// `start` connects them to the API: the sender, and the config's refresh by ETag.
import { pageAttributes } from "./attributes.js";
import { compileConfig, result } from "./evaluator.js";
import { createSender } from "./events.js";
import { autoApply } from "./auto.js";
import { NOCODE, SEGMENTS } from "./features.js";
import { createVisitor } from "./identity.js";
import { checkAttributes, checkUnitId, isNumber, need } from "./inputs.js";

/** @import { Attributes, Client, ClientOptions } from "../vekst.js" */
/** @import { CompiledExperiment } from "./evaluator.js" */
/** @import { Event, Sender } from "./events.js" */
/** @import { Warn } from "./inputs.js" */

/** @typedef {Window & typeof globalThis} Host The window (`options.global` in tests). */

/**
 * The options with the defaults of createClient filled in.
 * @typedef {ClientOptions & Required<Pick<ClientOptions, "idName" | "idDays" | "refreshInterval" |
 *   "readyTimeout" | "flushInterval" | "maxBatch" | "maxQueue" | "maxRetries" | "backoff" |
 *   "botDetection">>} Settings
 */

// Said after a network error, which is all a refused CORS preflight shows the page: is the shop's
// origin in that setting? (The server logs a refused origin under the same name.)
const UNREACHABLE = "(VEKST_CORS_ORIGINS?)";
const MS_PER_SECOND = 1000;

/**
 * The QA overrides in the page's URL (`?<param>=experiment:variant,...`): experiment key to
 * variant key; none unless `param` is set.
 * @param {URLSearchParams | undefined} query the page's
 * @param {string | undefined} param
 */
const qaOverrides = (query, param) =>
  Object.fromEntries(
    param && query
      ? query
          .getAll(param)
          .join()
          .split(",")
          .map((pair) => pair.split(":"))
      : [],
  );

/**
 * Create a client; it starts loading the config at once and never throws.
 * @param {ClientOptions} [options]
 * @returns {Client}
 */
export function createClient(options) {
  /** @type {Settings} */
  const settings = {
    // The defaults (vekst.d.ts documents each option).
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
  const g = /** @type {Host} */ (settings.global || globalThis);
  const logged = new Set();
  /** @type {Warn} Logs each distinct message once, as "vekst: <message>". */
  const warn = (message) =>
    logged.has(message) || (logged.add(message), g.console?.warn(`vekst: ${message}`));
  // Why the visitor is taken for a bot (or false); said once, so an automated test of the shop
  // knows why it sees the control and sends nothing.
  const agent = /** @type {string} */ (g.navigator?.userAgent);
  // (The patterns used once are written where they are used: as module constants they cost the
  // minifier short names, about 30 bytes of the bundle.)
  const bot =
    settings.botDetection &&
    (g.navigator?.webdriver
      ? "webdriver"
      : /bot|crawl|spider|slurp|facebookexternalhit|headless/i.test(agent) && agent);
  if (bot) warn(`treated as a bot (${bot}); see botDetection`);
  const visitor = createVisitor(g, settings, warn);
  /**
   * Send the exposure of `unit` to `variant` of `key` once (an experiment's, with the
   * attributes it names as dimensions, or a holdout's group).
   * @param {string} key
   * @param {string} variant
   * @param {string} unit
   * @param {CompiledExperiment} [experiment]
   * @param {Attributes | null} [attributes]
   */
  const expose = (key, variant, unit, experiment, attributes) =>
    sender &&
    visitor.firstExposure(key, variant, unit) &&
    // The segments build adds the attributes the experiment names as dimensions, and only
    // those (none: no field); the shop's win over the ones the SDK knows.
    sender.enqueue({
      type: "exposure",
      unit_id: unit,
      experiment: key,
      variant,
      ...(SEGMENTS && experiment && withDimensions(experiment, attributes)),
    });
  /** @type {Map<string, CompiledExperiment> | null} The config's experiments, once loaded. */
  let compiled = null;
  /** @type {any} Tells `ready` that a config is loaded or none will come (settle()). */
  let settle;
  const loaded = new Promise((resolve) => (settle = resolve));
  /** @param {unknown} config */
  const compile = (config) => {
    try {
      compiled = compileConfig(config, settings.overrides || {}, warn, visitor.stick, expose);
      settle();
    } catch (error) {
      warn(`config: ${error}`);
    }
  };
  // (None outside a page: a server or a test may have no URLSearchParams either.)
  const query = g.location && new URLSearchParams(g.location.search);
  const qa = qaOverrides(query, settings.qaParam);
  // A preview link's signed token (`?vekst_preview=`, the no-code build with autoApply): the
  // client loads that experiment alone (a draft too) from /v1/sdk/preview and records nothing.
  // (Sent as it came: the server refuses anything but a token it signed.)
  const preview = NOCODE && settings.autoApply && query?.get("vekst_preview");
  /** @type {Attributes | undefined} The page's device and source, read at its first exposure. */
  let known;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let refreshTimer;
  /** @type {Sender | null} */
  let sender = null;

  // Loads the config, then keeps it fresh and the sender connected to the page's life.
  function start() {
    if (settings.config && !preview) compile(settings.config);
    const fetcher = settings.fetch || g.fetch?.bind(g);
    const key = String(settings.sdkKey || "");
    // (Keys that must never be in a page: they define experiments or send trusted purchases.)
    // Without these nothing is fetched or sent: the catch below logs it and settles `ready`.
    need(
      settings.apiUrl && key && !/^vk_(admin|server)_/.test(key) && fetcher,
      "apiUrl or sdkKey",
    );
    const base = String(settings.apiUrl).replace(/\/+$/, "");
    const auth = { Authorization: `Bearer ${key}` };
    const events = (sender = createSender(
      g,
      warn,
      fetcher,
      `${base}/v1/events`,
      key,
      auth,
      settings,
    ));
    if (preview) sender = null;
    /** @type {string | null} */
    let etag = null;
    // Loads the config, revalidated by its ETag; a failure keeps the last good one.
    const refresh = async () => {
      try {
        // A refused CORS preflight reaches the page only as a network error ("Failed to fetch").
        const response = await fetcher(
          `${base}/v1/sdk/${preview ? `preview?token=${preview}` : "config"}`,
          { headers: etag ? { ...auth, "If-None-Match": etag } : auth },
        ).catch((error) => {
          throw `${error.message} ${UNREACHABLE}`;
        });
        const { status } = response;
        if (status === 200) {
          compile(await response.json());
          etag = response.headers.get("ETag");
        } else if (status !== 304) throw `HTTP ${status}`;
      } catch (error) {
        warn(`config: ${error}`);
      }
      settle();
    };
    refresh();
    if (settings.refreshInterval > 0)
      /** @type {{unref?: () => void}} */ (
        (refreshTimer = setInterval(refresh, settings.refreshInterval * MS_PER_SECOND))
      ).unref?.();
    g.document?.addEventListener("visibilitychange", () =>
      g.document.hidden ? events.flushHidden() : refresh(),
    );
    g.addEventListener?.("pagehide", events.flushHidden);
    g.addEventListener?.("online", events.wake);
  }

  /**
   * `{attributes}` of an exposure to `experiment` (segments build): those it names as
   * dimensions among the shop's `attributes` and the ones the SDK knows, the shop's winning;
   * nothing when it names none of them.
   * @param {CompiledExperiment} experiment
   * @param {Attributes | null | undefined} attributes
   */
  function withDimensions(experiment, attributes) {
    known ||= pageAttributes(g);
    const picked = experiment.pick?.({ ...known, ...visitor.kind(), ...attributes });
    return picked && { attributes: picked };
  }

  /** @type {Client} */
  const client = {
    /** The variant of `experimentKey` for the visitor (or `unitId`); never throws. */
    assign(experimentKey, unitId, attributes) {
      const experiment = compiled?.get(experimentKey);
      // (Outside the try: from here on the catch always has an experiment to serve.)
      if (!experiment) {
        return result(
          experimentKey,
          null,
          null,
          compiled ? "unknown_experiment" : "not_ready",
        );
      }
      try {
        if (bot) return experiment.fixed("bot");
        const unit = unitId ?? visitor.id();
        if (unit === null) return experiment.fixed("no_consent");
        const assigned = experiment.decide(unit, attributes, qa[experimentKey]);
        if (assigned.inExperiment)
          expose(experimentKey, /** @type {string} */ (assigned.variant), unit, experiment, attributes);
        return assigned;
      } catch (error) {
        warn(`assign('${experimentKey}'): ${error}`);
        return experiment.fixed("error");
      }
    },

    /** Queue a conversion (`purchase` with `{value: 649}`); bad input is logged and dropped. */
    track(name, { value, properties, unitId } = {}) {
      try {
        if (bot || !sender) return;
        const unit = unitId ?? visitor.id();
        if (unit === null) return;
        checkUnitId(unit);
        need(/^[a-z0-9_-]{1,64}$/.test(name), "name");
        need(value == null || isNumber(value), "value");
        /** @type {Event} */
        const event = { type: "conversion", unit_id: unit, name };
        if (value != null) event.value = value;
        if (properties != null) {
          checkAttributes(properties, "properties");
          event.properties = { ...properties };
        }
        sender.enqueue(event);
      } catch (error) {
        warn(`track('${name}'): ${error}`);
      }
    },

    /** Resolves to true once a config is loaded, false when `readyTimeout` ms pass first. */
    ready: () =>
      new Promise((resolve) => {
        loaded.then(resolve);
        setTimeout(resolve, settings.readyTimeout);
      }).then(() => !!compiled),

    /** Send queued events now; resolves when they are sent or a send failed (it is retried). */
    flush: async () => sender?.flushAll(),

    /** Give or withdraw consent to keep the anonymous id; withdrawing deletes it. */
    setConsent: visitor.giveConsent,

    /** The unit id used when none is passed: the shop's, the stored anonymous one, or null. */
    get unitId() {
      return visitor.id();
    },

    /** Stop refreshing the config and send what is queued (as a beacon). */
    close() {
      clearInterval(refreshTimer);
      sender?.stop();
    },
  };

  try {
    start();
  } catch (error) {
    warn(`createClient: ${error}`);
    settle();
  }
  // (The no-code build only: the minifier drops this from the others. Also without an apiUrl:
  // the changes of a config passed in are shown.)
  if (NOCODE && settings.autoApply)
    try {
      autoApply(g, client, () => compiled, warn, preview);
    } catch (error) {
      warn(`createClient: ${error}`);
    }
  return client;
}
