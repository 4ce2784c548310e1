// Offline evaluation of the config document of GET /v1/sdk/config (docs/assignment.md,
// sections 6 and 9). Each experiment is checked and compiled in one pass to prefixes, integer
// bounds and precreated, frozen results; a bad one is left out with the path and rule of its
// first error. Unknown fields are ignored.
import { SPACE, hasher, overrideDigest, variantBounds } from "./hash.js";
import { checkAttributes, checkUnitId, isName, isNumber, isObject, need } from "./inputs.js";
import { compileTargeting } from "./targeting.js";

function freeze(value) {
  if (typeof value === "object" && value !== null) {
    Object.values(value).forEach(freeze);
    Object.freeze(value);
  }
  return value;
}

export const result = (experiment, variant, payload, inExperiment, reason) =>
  Object.freeze({ experiment, variant, payload, inExperiment, reason });

const isRange = (pair) =>
  Array.isArray(pair) &&
  pair.length === 2 &&
  pair.every(Number.isInteger) &&
  pair[0] >= 0 &&
  pair[0] < pair[1] &&
  pair[1] <= 1e4;

/** Check and compile experiment `e`; `clientOverrides` maps its key to {unit id: variant key}. */
function compileExperiment(e, path, clientOverrides, warn) {
  need(isObject(e), path);
  for (const field of ["key", "salt", "unit_type"]) need(isName(e[field]), `${path}.${field}`);
  const { key, salt, status, variants, layer, winner, override_hashes: hashed } = e;
  need(!salt.includes(":") && salt.length <= 64, `${path}.salt`);
  need(status === "running" || status === "stopped", `${path}.status`);
  need(Array.isArray(variants) && variants.length > 1 && variants.length < 11, `${path}.variants`);
  const payloads = new Map();
  variants.forEach((v, i) => {
    const at = `${path}.variants[${i}]`;
    need(isObject(v) && isName(v.key) && !payloads.has(v.key), `${at}.key`);
    need(isNumber(v.weight) && v.weight > 0 && v.weight <= 1e12, `${at}.weight`);
    payloads.set(v.key, freeze(v.payload ?? null));
  });
  const bounds = variantBounds(variants.map((v) => v.weight));
  [...bounds, SPACE].forEach((bound, i) =>
    need(bound > (bounds[i - 1] || 0), `${path}.variants[${i}].weight`),
  );
  let threshold = SPACE;
  if (layer == null) {
    const traffic = e.traffic === undefined ? 1 : e.traffic;
    need(isNumber(traffic) && traffic > 0 && traffic <= 1, `${path}.traffic`);
    threshold = Math.floor(traffic * SPACE);
  } else {
    need(isObject(layer) && isName(layer.key), `${path}.layer.key`);
    const ranges = layer.ranges;
    // (Overlapping ranges would change no assignment; disjoint ones are the server's duty.)
    need(Array.isArray(ranges) && ranges.length && ranges.every(isRange), `${path}.layer.ranges`);
  }
  const targeting = e.targeting == null ? null : compileTargeting(e.targeting, `${path}.targeting`);

  const make = (variant, inExperiment, reason) =>
    result(key, variant, payloads.get(variant), inExperiment, reason);
  // Config overrides are published as digests of the unit ids; the client's own, in clear,
  // join them as digests and win.
  need(hashed == null || isObject(hashed), `${path}.override_hashes`);
  const digest = overrideDigest(salt);
  const forced = new Map();
  // (A key that is no digest matches no unit, so unlike Python the JS leaves its form unchecked.)
  for (const d in hashed) {
    need(payloads.has(hashed[d]), `${path}.override_hashes.${d}`);
    forced.set(d, make(hashed[d], false, "override"));
  }
  for (const [unit, variant] of Object.entries(clientOverrides[key] || {}))
    if (isName(unit) && payloads.has(variant))
      forced.set(digest(unit), make(variant, false, "override"));
  need(winner == null || (status === "stopped" && payloads.has(winner)), `${path}.winner`);

  const control = variants[0].key;
  const invalid = make(control, false, "invalid_input");
  const notTargeted = make(control, false, "not_targeted");
  const notInTraffic = make(control, false, "not_in_traffic");
  const stopped =
    status === "running"
      ? null
      : winner != null
        ? make(winner, false, "winner")
        : make(control, false, "stopped");
  const split = variants.map((v) => make(v.key, true, "split"));
  const variantHash = hasher(`variant:${salt}:`);
  const trafficHash = hasher(`traffic:${salt}:`);
  const layerHash = layer && hasher(`layer:${layer.key}:`);

  // `qa` is a variant key forced for this visitor (a QA URL override), or undefined.
  function assign(unitId, attributes, qa) {
    if (stopped) return stopped;
    try {
      checkUnitId(unitId, "unitId");
      const override =
        (forced.size && forced.get(digest(unitId))) ||
        (payloads.has(qa) && make(qa, false, "override"));
      if (override) return override;
      if (attributes != null) checkAttributes(attributes, "attributes");
    } catch (error) {
      warn(`invalid input for '${key}': ${error.message}`);
      return invalid;
    }
    if (targeting && !targeting(attributes || {})) return notTargeted;
    if (layerHash) {
      const bucket = Math.floor((layerHash(unitId) * 1e4) / SPACE);
      if (!layer.ranges.some(([start, end]) => start <= bucket && bucket < end))
        return notInTraffic;
    } else if (threshold < SPACE && trafficHash(unitId) >= threshold) {
      return notInTraffic;
    }
    const hashed = variantHash(unitId);
    let index = 0;
    while (index < bounds.length && hashed >= bounds[index]) index++;
    return split[index];
  }

  // Bots, visitors without consent, internal errors: what everyone outside the test sees.
  const fixed = (reason) => stopped || make(control, false, reason);
  return { assign, fixed };
}

/**
 * Compile a config document to a Map from experiment key to `{assign, fixed}`. Throws when the
 * document as a whole is unusable (not an object, another version, no list). An experiment
 * that is invalid or repeats a key is left out and reported to `warn`, but still shows its
 * control when one can be read from it; disjoint layer ranges across experiments are the
 * server's duty. `overrides` maps experiment keys to {unit id: variant key}.
 */
export function compileConfig(config, overrides, warn) {
  need(isObject(config) && config.version === 1, "config", "must be an object with version 1");
  need(Array.isArray(config.experiments), "config.experiments");
  const experiments = new Map();
  config.experiments.forEach((e, i) => {
    const path = `experiments[${i}]`;
    try {
      const compiled = compileExperiment(e, path, overrides, warn);
      need(!experiments.has(e.key), `${path}.key`);
      experiments.set(e.key, compiled);
    } catch (error) {
      warn(`left out of the config: ${error.message}`);
      const control = Array.isArray(e?.variants) && e.variants[0];
      if (isName(e?.key) && control && isName(control.key) && !experiments.has(e.key)) {
        const fixed = result(
          e.key,
          control.key,
          freeze(control.payload ?? null),
          false,
          "invalid_config",
        );
        experiments.set(e.key, { assign: () => fixed, fixed: () => fixed });
      }
    }
  });
  return experiments;
}
