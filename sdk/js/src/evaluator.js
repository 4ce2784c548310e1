// Offline evaluation of the config document of GET /v1/sdk/config (docs/assignment.md,
// sections 6 and 9). Each experiment is checked and compiled in one pass to prefixes, integer
// bounds and precreated, frozen results; a bad one is left out with the path and rule of its
// first error. Unknown fields are ignored.
import {
  HASH_SPACE,
  LAYER_BUCKETS,
  hasher,
  layerBucket,
  overrideDigest,
  variantBounds,
} from "./hash.js";
import {
  checkAttributes,
  checkUnitId,
  has,
  isName,
  isObject,
  need,
  storable,
} from "./inputs.js";
import { NOCODE, SEGMENTS } from "./features.js";
import { compileTargeting } from "./targeting.js";

/** @import { Assignment, Attributes, Json, Reason } from "../vekst.js" */
/** @import { Warn } from "./inputs.js" */

/**
 * An experiment of the config document as GET /v1/sdk/config sends it (docs/assignment.md,
 * section 9). The document comes from the network: every field is checked before it is used.
 * @typedef {{
 *   key: string,
 *   salt: string,
 *   unit_type: string,
 *   status: string,
 *   variants: {key: string, weight: number, payload?: Json, changes?: unknown, css?: unknown,
 *     redirect?: unknown}[],
 *   traffic?: number,
 *   targeting?: unknown,
 *   layer?: {key: string, ranges: [number, number][]} | null,
 *   override_hashes?: Record<string, string> | null,
 *   winner?: string | null,
 *   dimensions?: string[] | null,
 *   sticky_version?: number,
 * }} ExperimentDocument
 */

/**
 * A holdout of the config document's `holdouts`, compiled: `held` tells whether a (valid) unit
 * id is in the holdout group, and sends the exposure of its group (holdout or measurement).
 * @typedef {{key: string, unit_type: string, experiments: string[],
 *   held: (unitId: string) => boolean}} Holdout
 */

/**
 * What the client lends the evaluator (compileConfig's last two arguments): `stick` reads
 * (without `variant`) or keeps the variant stored as "<experiment key>:<sticky version>:<unit
 * id>"; `expose` sends a holdout exposure once.
 * @typedef {{
 *   stick: (name: string, variant?: string) => string | undefined | void,
 *   expose: (key: string, variant: string, unitId: string) => void,
 * }} Hooks
 */

/**
 * A compiled experiment. `decide` assigns a unit (`qa`: a variant key forced by a QA URL
 * override, or undefined); `fixed` gives what everyone outside the test sees, with `reason`;
 * `pick` (segments build only) gives the attributes of `known` that the experiment names as
 * dimensions, in their order, or undefined when it names none of them.
 * @typedef {{
 *   decide: (unitId: string, attributes?: Attributes | null, qa?: string) => Assignment,
 *   fixed: (reason: Reason) => Assignment,
 *   pick?: (known: Attributes) => Attributes | undefined,
 *   page?: PageChanges,
 * }} CompiledExperiment
 */

/**
 * What the no-code build applies by itself: the variants' `changes`, `css` and `redirect` as
 * the config sends them (checked when applied), and whether the targeting matches a page's
 * `url` and `path`. Only for an experiment some variant of which has one of them.
 * @typedef {{
 *   targeted: (page: Attributes) => boolean,
 *   variants: Map<string, {changes?: unknown, css?: unknown, redirect?: unknown}>,
 * }} PageChanges
 */

/** The most variants an experiment has. */
const MAX_VARIANTS = 10;
/** The largest weight of a variant. */
const MAX_WEIGHT = 1e12;
/** The most dimensions (attribute names its exposures carry) an experiment names. */
const MAX_DIMENSIONS = 5;

/**
 * Freezes `value` and everything in it.
 * @template T
 * @param {T} value
 * @returns {T}
 */
function freeze(value) {
  if (value instanceof Object) Object.values(value).forEach(freeze);
  return Object.freeze(value);
}

/**
 * A frozen assignment. A unit is in the experiment exactly when it was split into a variant
 * (then its exposure is sent); every other reason leaves it out.
 * @param {string} experiment
 * @param {string | null} variant
 * @param {Json} payload
 * @param {Reason} reason
 * @returns {Assignment}
 */
export const result = (experiment, variant, payload, reason) =>
  Object.freeze({
    experiment,
    variant,
    payload,
    inExperiment: reason === "split" || reason === "sticky",
    reason,
  });

/** A number in (0, `max`]. @param {unknown} x @param {number} max @returns {x is number} */
const upTo = (x, max) => typeof x === "number" && x > 0 && x <= max;

/**
 * Check an experiment's or a holdout's object, `key`, `salt` (1-64 characters without ":")
 * and `unit_type`.
 * @param {any} x
 * @param {string} path
 */
function checkNames(x, path) {
  need(isObject(x), path);
  for (const field of ["key", "salt", "unit_type"]) need(isName(x[field]), `${path}.${field}`);
  need(/^[^:]{1,64}$/.test(x.salt), `${path}.salt`);
}

/**
 * Check and compile holdout `h` (docs/assignment.md, section 9).
 * @param {any} h
 * @param {string} path
 * @param {Hooks["expose"]} expose
 * @returns {Holdout}
 */
function compileHoldout(h, path, expose) {
  checkNames(h, path);
  need(upTo(h.share, 0.5), `${path}.share`);
  need(Array.isArray(h.experiments) && h.experiments.every(isName), `${path}.experiments`);
  const hash = hasher(`holdout:${h.salt}:`);
  const t = Math.floor(h.share * HASH_SPACE);
  return {
    ...h,
    held(unitId, x = hash(unitId)) {
      if (x < 2 * t) expose(h.key, x < t ? "holdout" : "measurement", unitId);
      return x < t;
    },
  };
}

/**
 * Check and compile experiment `e`; `clientOverrides` maps its key to {unit id: variant key}.
 * @param {ExperimentDocument} e
 * @param {string} path
 * @param {Record<string, Record<string, string>>} clientOverrides
 * @param {Warn} warn
 * @param {Map<string, Holdout>} holdouts
 * @param {Hooks["stick"]} stick
 * @returns {CompiledExperiment}
 */
function compileExperiment(e, path, clientOverrides, warn, holdouts, stick) {
  checkNames(e, path);
  const { key, salt, status, variants, layer, winner, override_hashes: hashed } = e;
  need(status === "running" || status === "stopped", `${path}.status`);
  need(
    Array.isArray(variants) && variants.length > 1 && variants.length <= MAX_VARIANTS,
    `${path}.variants`,
  );
  const payloads = new Map();
  variants.forEach((v, i) => {
    const at = `${path}.variants[${i}]`;
    need(isObject(v) && isName(v.key) && !payloads.has(v.key), `${at}.key`);
    need(upTo(v.weight, MAX_WEIGHT), `${at}.weight`);
    payloads.set(v.key, freeze(v.payload ?? null));
  });
  const bounds = variantBounds(variants.map((v) => v.weight));
  [...bounds, HASH_SPACE].forEach((bound, i) =>
    need(bound > (bounds[i - 1] || 0), `${path}.variants[${i}].weight`),
  );
  // The traffic: the units whose `position` (the layer bucket, or else the traffic hash) is in
  // one of `ranges` [start, end): the layer's, or else the hashes under the traffic's share.
  /** @type {number[][]} */
  let ranges;
  /** @type {(unitId: string) => number} */
  let position;
  if (layer == null) {
    const { traffic = 1 } = e;
    need(upTo(traffic, 1), `${path}.traffic`);
    ranges = [[0, Math.floor(traffic * HASH_SPACE)]];
    position = hasher(`traffic:${salt}:`);
  } else {
    need(isObject(layer) && isName(layer.key), `${path}.layer.key`);
    ranges = layer.ranges;
    // (Overlapping ranges would change no assignment; disjoint ones are the server's duty.)
    need(
      Array.isArray(ranges) &&
        ranges.length &&
        // (Each a range of buckets [start, end); written here, not as a module constant, which
        // costs the bundle a few bytes more.)
        ranges.every(
          (/** @type {unknown} */ pair) =>
            Array.isArray(pair) &&
            pair.length === 2 &&
            pair.every(Number.isInteger) &&
            pair[0] >= 0 &&
            pair[0] < pair[1] &&
            pair[1] <= LAYER_BUCKETS,
        ),
      `${path}.layer.ranges`,
    );
    position = layerBucket(layer.key);
  }
  const targeting = e.targeting == null ? null : compileTargeting(e.targeting, `${path}.targeting`);
  const dims = SEGMENTS ? e.dimensions || [] : [];
  if (SEGMENTS) {
    const valid = Array.isArray(dims) && dims.length <= MAX_DIMENSIONS && dims.every(isName);
    need(valid, `${path}.dimensions`);
  }

  /** @type {(variant: string, reason: Reason) => Assignment} */
  const make = (variant, reason) =>
    result(key, variant, /** @type {Json} */ (payloads.get(variant)), reason);
  // Config overrides are published as digests of the unit ids; the client's own, in clear,
  // join them as digests and win.
  need(hashed == null || isObject(hashed), `${path}.override_hashes`);
  const digest = overrideDigest(salt);
  /** @type {Map<string, Assignment>} */
  const forced = new Map();
  // (A key that is no digest matches no unit, so unlike Python the JS leaves its form unchecked.)
  for (const d in hashed) {
    need(payloads.has(hashed[d]), `${path}.override_hashes.${d}`);
    forced.set(d, make(hashed[d], "override"));
  }
  for (const [unit, variant] of Object.entries(clientOverrides[key] || {}))
    if (isName(unit) && payloads.has(variant))
      forced.set(digest(unit), make(variant, "override"));
  need(winner == null || (status === "stopped" && payloads.has(winner)), `${path}.winner`);
  const version = e.sticky_version;
  need(
    version == null || (Number.isInteger(version) && upTo(version, 2 ** 31 - 1)),
    `${path}.sticky_version`,
  );
  // The holdout over this experiment while it runs, or over its winner's rollout.
  const hold =
    (status === "running" || winner != null) &&
    [...holdouts.values()].find(
      (h) => h.experiments.includes(key) && h.unit_type === e.unit_type,
    );
  // The sticky store's name of a unit's variant in this version (undefined: not sticky).
  const stuckAs = version && ((/** @type {string} */ unitId) => `${key}:${version}:${unitId}`);

  const control = variants[0].key;
  /** @type {Partial<Record<Reason, Assignment>>} The control's results, made once per reason. */
  const controls = {};
  /** @type {CompiledExperiment["fixed"]} The control, with `reason`. */
  const outside = (reason) => (controls[reason] ||= make(control, reason));
  // What every unit gets once the experiment is stopped; null while it runs.
  const stopped =
    status === "running" ? null : winner != null ? make(winner, "winner") : outside("stopped");
  const split = variants.map((v) => make(v.key, "split"));
  const variantHash = hasher(`variant:${salt}:`);

  /** @type {CompiledExperiment["decide"]} */
  function decide(unitId, attributes, qa) {
    // (A stopped experiment serves everyone alike, unless a holdout keeps some units out.)
    try {
      checkUnitId(unitId);
      if (!stopped) {
        const override =
          (forced.size && forced.get(digest(unitId))) ||
          // (Without a QA override `qa` is undefined, which is no variant key.)
          (payloads.has(/** @type {string} */ (qa)) &&
            make(/** @type {string} */ (qa), "override"));
        if (override) return override;
        if (attributes != null) checkAttributes(attributes, "attributes");
      }
    } catch (error) {
      if (stopped) return stopped;
      warn(`assign('${key}'): ${error}`);
      return outside("invalid_input");
    }
    if (hold && hold.held(unitId)) return outside("holdout");
    if (stopped) return stopped;
    if (targeting && !targeting(attributes || {})) return outside("not_targeted");
    const stuck = stuckAs && stick(stuckAs(unitId));
    if (payloads.has(stuck)) return make(/** @type {string} */ (stuck), "sticky");
    // (No hash when all the traffic is in: a layer's ranges end within LAYER_BUCKETS.)
    if (ranges[0][1] < HASH_SPACE) {
      const at = position(unitId);
      if (!ranges.some(([start, end]) => start <= at && at < end))
        return outside("not_in_traffic");
    }
    const hashed = variantHash(unitId);
    let index = 0;
    while (hashed >= bounds[index]) index++;
    if (stuckAs) stick(stuckAs(unitId), variants[index].key);
    return split[index];
  }

  // Bots, visitors without consent, internal errors: what everyone outside the test sees.
  /** @type {CompiledExperiment["fixed"]} */
  const fixed = (reason) => stopped || outside(reason);
  /** @type {CompiledExperiment["pick"]} */
  const pick = (known) => {
    /** @type {Attributes | undefined} */
    let picked;
    for (const name of dims)
      if (has(known, name) && storable(known[name])) (picked ||= {})[name] = known[name];
    return picked;
  };
  /** @type {CompiledExperiment} */
  const compiled = SEGMENTS ? { decide, fixed, pick } : { decide, fixed };
  return NOCODE ? withPage(compiled, variants, targeting) : compiled;
}

/**
 * `compiled` with its `page` when some variant has no-code changes (the no-code build).
 * @param {CompiledExperiment} compiled
 * @param {ExperimentDocument["variants"]} variants
 * @param {((attributes: Attributes) => boolean) | null} targeting
 */
function withPage(compiled, variants, targeting) {
  if (variants.some((v) => (v.changes ?? v.css ?? v.redirect) != null))
    compiled.page = {
      targeted: targeting || Boolean, // (Boolean: untargeted, every page matches)
      variants: new Map(variants.map((variant) => [variant.key, variant])),
    };
  return compiled;
}

/**
 * Compile a config document to a Map from experiment key to its CompiledExperiment. Throws
 * when the document as a whole is unusable (not an object, another version, no list). An experiment
 * that is invalid or repeats a key is left out and reported to `warn`, but still shows its
 * control when one can be read from it; disjoint layer ranges across experiments are the
 * server's duty. `overrides` maps experiment keys to {unit id: variant key}. A bad holdout is
 * left out too (its units are assigned as everyone's).
 * @param {any} config (unknown: every part is checked)
 * @param {Record<string, Record<string, string>>} overrides
 * @param {Warn} warn
 * @param {Hooks["stick"]} stick
 * @param {Hooks["expose"]} expose
 * @returns {Map<string, CompiledExperiment>}
 */
export function compileConfig(config, overrides, warn, stick, expose) {
  need(config?.version === 1, "config.version");
  need(Array.isArray(config.experiments), "config.experiments");
  /** @type {Map<string, Holdout>} */
  const holdouts = new Map();
  [].concat(config.holdouts || []).forEach((h, i) => {
    const path = `holdouts[${i}]`;
    try {
      const holdout = compileHoldout(h, path, expose);
      need(!holdouts.has(holdout.key), `${path}.key`);
      holdouts.set(holdout.key, holdout);
    } catch (error) {
      warn(`config: ${error}`);
    }
  });
  /** @type {Map<string, CompiledExperiment>} */
  const experiments = new Map();
  /** @type {ExperimentDocument[]} */ (config.experiments).forEach((e, i) => {
    const path = `experiments[${i}]`;
    try {
      const compiled = compileExperiment(e, path, overrides, warn, holdouts, stick);
      need(!experiments.has(e.key), `${path}.key`);
      experiments.set(e.key, compiled);
    } catch (error) {
      warn(`config: ${error}`);
      // (Unchecked: anything at all, or false; read with ?. and checked before use.)
      const control = /** @type {any} */ (Array.isArray(e?.variants) && e.variants[0]);
      if (isName(e?.key) && isName(control?.key) && !experiments.has(e.key)) {
        const fixed = result(
          e.key,
          control.key,
          freeze(control.payload ?? null),
          "invalid_config",
        );
        // (No `pick`: it never splits, so it sends no exposure.)
        experiments.set(e.key, { decide: () => fixed, fixed: () => fixed });
      }
    }
  });
  return experiments;
}
