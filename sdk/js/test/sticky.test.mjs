// The sticky cookie of the shipped client (docs/sdks.md, "In the browser"): kept only with
// consent, at most 20 entries (the newest), deleted with consent, read afresh for a new
// sticky_version, and harmless when corrupt; and duplicate holdout keys in the config.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient } from "../dist/vekst.min.mjs";
import { compileConfig } from "../src/evaluator.js";
import { configExperiment, fakeWindow } from "./fakes.mjs";

const STICKY = "vekst_id_sticky";

/** A config of one running sticky experiment; the control weighs `weights[0]`. */
function stickyConfig({ version = 1, weights = [1, 1] } = {}) {
  const variants = [
    { key: "control", weight: weights[0] },
    { key: "treatment", weight: weights[1] },
  ];
  return {
    version: 1,
    experiments: [configExperiment("bandit", "5f1e0c2a9b7d4e31", variants, { sticky_version: version })],
  };
}

/** A client on `win` (a page load) with the config given; no API, so nothing is sent. */
const load = (win, config, options = {}) =>
  createClient({ config, global: win, consent: true, refreshInterval: 0, ...options });

/** The sticky cookie's entries ("<mark>.<variant>"), newest last. */
const entries = (win) =>
  win.cookies.has(STICKY) ? decodeURIComponent(win.cookies.get(STICKY)).split(",") : [];

test("kept only with consent: without it there is no cookie and no stickiness", () => {
  const win = fakeWindow();
  const client = load(win, stickyConfig(), { consent: false });
  assert.equal(client.assign("bandit", "u1").reason, "split");
  assert.equal(client.assign("bandit", "u1").reason, "split");
  assert.equal(win.cookies.size, 0);
  client.setConsent(true);
  const first = client.assign("bandit", "u1");
  assert.equal(first.reason, "split");
  assert.deepEqual(entries(win).map((entry) => entry.split(".")[1]), [first.variant]);
  assert.match(win.document.lastCookie, /^vekst_id_sticky=.*; Max-Age=31536000; Path=\/; SameSite=Lax; Secure$/);
  const again = load(win, stickyConfig()).assign("bandit", "u1"); // a reload
  assert.deepEqual([again.reason, again.variant, again.inExperiment], ["sticky", first.variant, true]);
});

test("at most 20 entries, the newest kept", () => {
  const win = fakeWindow();
  const client = load(win, stickyConfig());
  for (let i = 0; i < 25; i++) client.assign("bandit", `u${i}`);
  assert.equal(entries(win).length, 20);
  const reloaded = load(win, stickyConfig());
  assert.equal(reloaded.assign("bandit", "u24").reason, "sticky");
  assert.equal(reloaded.assign("bandit", "u5").reason, "sticky");
  assert.equal(reloaded.assign("bandit", "u4").reason, "split"); // the oldest went first
  assert.equal(entries(win).length, 20); // u4 is kept again, u5 leaves
  assert.equal(load(win, stickyConfig()).assign("bandit", "u5").reason, "split");
});

test("withdrawn consent deletes the cookie and ends stickiness", () => {
  const win = fakeWindow();
  const client = load(win, stickyConfig());
  client.assign("bandit", "u1");
  assert.ok(win.cookies.has(STICKY));
  client.setConsent(false);
  assert.ok(!win.cookies.has(STICKY));
  assert.equal(client.assign("bandit", "u1").reason, "split");
  assert.ok(!win.cookies.has(STICKY));
});

test("a bumped sticky_version reshuffles; weights moved under the same version do not", () => {
  const win = fakeWindow();
  // Nearly every unit gets the control first.
  const first = load(win, stickyConfig({ weights: [1000, 1] })).assign("bandit", "u1");
  assert.equal(first.variant, "control");
  const moved = stickyConfig({ weights: [1, 1000] });
  assert.deepEqual(
    [load(win, moved).assign("bandit", "u1").variant, load(win, moved).assign("bandit", "u1").reason],
    ["control", "sticky"],
  );
  const reshuffled = load(win, stickyConfig({ version: 2, weights: [1, 1000] }));
  assert.deepEqual(
    [reshuffled.assign("bandit", "u1").variant, reshuffled.assign("bandit", "u1").reason],
    ["treatment", "sticky"], // split afresh, then kept under version 2
  );
});

test("a corrupt cookie is ignored, never a crash", () => {
  for (const corrupt of ["%E0%A4%A", "...,,.", "x".repeat(5000), "abc.nope,def", encodeURIComponent("🛒.🛍️,\0.\0")]) {
    const win = fakeWindow({ cookies: new Map([[STICKY, corrupt]]) });
    const client = load(win, stickyConfig());
    const assigned = client.assign("bandit", "u1");
    assert.equal(assigned.reason, "split", corrupt.slice(0, 20));
    assert.equal(load(win, stickyConfig()).assign("bandit", "u1").reason, "sticky", corrupt.slice(0, 20));
    assert.ok(!win.warnings.some((line) => /internal error/.test(line)), win.warnings.join());
  }
});

test("a stored variant the experiment no longer has is ignored", () => {
  const win = fakeWindow();
  load(win, stickyConfig()).assign("bandit", "u1");
  const renamed = stickyConfig();
  renamed.experiments[0].variants = [
    { key: "control-2", weight: 1 },
    { key: "treatment-2", weight: 1 },
  ];
  assert.equal(load(win, renamed).assign("bandit", "u1").reason, "split");
});

test("a repeated holdout key is left out, as the Python SDK does; the first one serves", () => {
  const holdout = { key: "h", salt: "h-salt", share: 0.5, unit_type: "visitor", experiments: ["bandit"] };
  const warnings = [];
  const exposed = [];
  const config = { ...stickyConfig(), holdouts: [holdout, { ...holdout, share: 0.01 }] };
  const experiments = compileConfig(
    config,
    {},
    (m) => warnings.push(m),
    () => undefined,
    (key, group) => exposed.push([key, group]),
  );
  assert.deepEqual(warnings, ["config: holdouts[1].key is invalid"]);
  // share 0.5: every unit is in the holdout or the measurement group of the first holdout.
  for (const unit of ["u1", "u2", "u3", "u4"]) experiments.get("bandit").decide(unit);
  assert.equal(exposed.length, 4);
  assert.ok(exposed.every(([key, group]) => key === "h" && ["holdout", "measurement"].includes(group)));
});
