// autoApply (the no-code build only): every experiment whose variants carry changes, CSS or a
// redirect and whose targeting matches the page's `url` and `path` is assigned and its variant
// shown as soon as the config is there; a MutationObserver shows it again on elements that
// appear late or are re-rendered, and `pushState`, `replaceState` and `popstate` evaluate the
// new URL (undoing what no longer matches). With the anti-flicker snippet in the page
// (`window.vekstHide`), the page is shown once this URL's changes are applied, or when the
// snippet's timeout passes (it sets `late`): then nothing is applied or exposed for this URL.
import { checkChanges, createLook, safeCss, safeUrl } from "./changes.js";

/** @import { Client } from "../vekst.js" */
/** @import { CompiledExperiment } from "./evaluator.js" */
/** @import { Warn } from "./inputs.js" */
/** @import { Look } from "./changes.js" */

/** The longest `url` attribute (the attributes' rule); a longer URL is cut. */
const MAX_URL = 1024;
const MAX_CSS = 10000;

/**
 * Where `redirect` sends a visitor of `location` (its query string and hash kept), or null
 * when it may not: an absolute https URL or a same-site path only, as the server checks.
 * @param {unknown} redirect
 * @param {Location} location
 */
export function destination(redirect, location) {
  if (!safeUrl(redirect) || !/^(https:\/\/.|\/(?![/\\]))/i.test(/** @type {string} */ (redirect)))
    return null;
  const url = new URL(/** @type {string} */ (redirect), /** @type {any} */ (location));
  if (!url.search) url.search = location.search;
  if (!url.hash) url.hash = location.hash;
  return url;
}

/**
 * Start applying the experiments' changes to the page `g`.
 * @param {Window & typeof globalThis} g
 * @param {Client} client assigns (and queues the exposure; `close` sends it as a beacon, else
 *   fetch with keepalive, before a redirect)
 * @param {() => Map<string, CompiledExperiment> | null} compiled the config's experiments
 * @param {Warn} warn
 * @param {string | null | false | undefined} preview a preview link's token, `<experiment>:<variant>:…`:
 *   that variant is shown whatever the targeting, and nothing is assigned
 */
export function autoApply(g, client, compiled, warn, preview) {
  const doc = g.document;
  const location = g.location;
  /** @type {{late?: number, show: () => void} | null | undefined} the anti-flicker snippet's
   * handle, until the first run has shown the page */
  let hidden = /** @type {any} */ (g).vekstHide;
  const [previewKey, previewVariant] = (preview || "").split(":");
  /** @type {Map<string, [string, Look]>} The variant shown now, by experiment. */
  const active = new Map();

  /** Show the assigned variants of the experiments that match this URL; undo the others. */
  function run() {
    const experiments = compiled();
    const late = hidden?.late;
    const here = { url: location.href.slice(0, MAX_URL), path: location.pathname };
    /** @type {Map<string, [string, {changes?: unknown, css?: unknown}]>} */
    const wanted = new Map();
    for (const [key, { page }] of (!late && experiments) || []) {
      if (!page) continue;
      const preview = key === previewKey && page.variants.has(previewVariant);
      // Never on a destination of the test: no second redirect and no exposure there (nor a
      // preview's redirect loop: the destination keeps the query string).
      const onDestination = [...page.variants.values()].some(({ redirect }) => {
        const to = destination(redirect, location);
        return to && to.origin + to.pathname === location.origin + location.pathname;
      });
      if (onDestination || !(preview || page.targeted(here))) continue;
      const assigned = preview ? null : client.assign(key, undefined, here);
      const variant = /** @type {string} */ (preview ? previewVariant : assigned?.variant);
      const entry = page.variants.get(variant); // (none for a visitor outside the test)
      if (!entry) continue;
      const to = destination(entry.redirect, location);
      if (to && assigned?.reason !== "bot") {
        client.close();
        return location.replace(to.href);
      }
      wanted.set(key, [variant, entry]);
    }
    for (const [key, [variant, look]] of active)
      if (wanted.get(key)?.[0] !== variant) {
        look.revert();
        active.delete(key);
      }
    for (const [key, [variant, { changes, css }]] of wanted)
      if (!active.has(key)) {
        const look = createLook(
          doc,
          checkChanges(changes, `${key}.${variant}.changes`, warn),
          safeCss(css, MAX_CSS) && /** @type {string} */ (css),
        );
        active.set(key, [variant, look]);
        look.paint();
      }
    hidden?.show();
    hidden = null;
  }

  new g.MutationObserver(() => active.forEach(([, look]) => look.paint())).observe(
    doc.documentElement,
    { childList: true, subtree: true, attributes: true, characterData: true },
  );
  for (const name of /** @type {const} */ (["pushState", "replaceState"])) {
    const original = g.history[name];
    g.history[name] = function (...args) {
      const result = original.apply(this, args);
      run();
      return result;
    };
  }
  g.addEventListener("popstate", run);
  client.ready().then(run); // (never rejects)
  // (The config's load may fail or be slow: the page is shown at the snippet's deadline.)
}
