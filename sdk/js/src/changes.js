// A variant's no-code changes (its `changes`, `css` and `redirect`; docs: README "No-code
// changes"): checked by the server's rules (experiments/variant_changes.py) again here, so a
// change that reaches the page past the server is ignored, then applied with DOM APIs only
// (text content, attributes, classes, one style property): never HTML, never script.
// Applying is idempotent: a write happens only where the page differs from the change, so the
// MutationObserver that re-applies after a framework re-render stops after one round.

/** @import { Warn } from "./inputs.js" */

/**
 * One write a change makes: on `el`, the slot `key` ("" the text, ":<property>" one style
 * property, else an attribute) gets `value` (null: the attribute is removed).
 * @typedef {[Element, string, string | null]} Write
 * @typedef {(el: Element) => Write[]} Change The writes of one change on one matched element.
 * @typedef {[selector: string, writes: Change]} CheckedChange
 */

const MAX_CHANGES = 50;
const MAX_SELECTOR = 500;
const MAX_VALUE = 2000;
const MAX_CSS = 10000;
/** The writes a second one variant may make (a framework re-rendering is far below it). */
const MAX_WRITES = 1000;
const ATTRIBUTE = /^(href|src|srcset|alt|title|aria-[a-z0-9-]+|data-[a-z0-9_.-]+)$/;
const CLASS_NAME = /^-?[A-Za-z_][\w-]{0,99}$/;
const PROPERTY = /^(--[\w-]{1,98}|-?[a-z][a-z-]{0,63})$/;
const MARKUP = /<[A-Za-z/!?]/;
const CSS_REFUSED = /@import|expression\(|javascript:|behavior:|-moz-binding|[<\\]/i;
const CSS_URL = /url\(\s*['"]?([^'")\s]*)/gi;

/**
 * Whether `url` may go into the page: https:, http: or relative (an image may be data:image/),
 * with no space or control character (browsers drop them before reading the scheme).
 * @param {unknown} url
 * @param {boolean} [image]
 */
export const safeUrl = (url, image) =>
  typeof url === "string" &&
  url.length <= MAX_VALUE &&
  !/[\0- \x7f]/.test(url) &&
  (!/^[a-z][a-z\d+.-]*:/i.test(url) || /^https?:/i.test(url) || (!!image && /^data:image\//i.test(url)));

/** @param {unknown} srcset `url [descriptor]` candidates separated by commas */
const safeSrcset = (srcset) =>
  typeof srcset === "string" &&
  srcset.length <= MAX_VALUE &&
  srcset.split(",").every((candidate) => {
    const parts = candidate.trim().split(/\s+/);
    return parts.length < 3 && parts[0] && safeUrl(parts[0], true);
  });

/** @param {unknown} css @param {number} limit */
export const safeCss = (css, limit) =>
  typeof css === "string" &&
  css.length <= limit &&
  !CSS_REFUSED.test(css) &&
  [...css.matchAll(CSS_URL)].every((match) => safeUrl(match[1], true));

/** @param {unknown} value @param {number} [limit] */
const isText = (value, limit = MAX_VALUE) => typeof value === "string" && value.length <= limit;

/** @param {unknown} names */
const classList = (names) =>
  names == null ||
  (Array.isArray(names) && names.length <= 20 && names.every((name) => CLASS_NAME.test(name)));

/**
 * Each action: its fields besides `selector` and `action`, whether a change's values pass the
 * server's rules, and the writes it makes on a matched element.
 * @type {Record<string, [string, (c: Record<string, any>) => unknown, (c: Record<string, any>) => Change]>}
 */
const ACTIONS = {
  text: [" value", (c) => isText(c.value) && !MARKUP.test(c.value), (c) => (el) => [[el, "", c.value]]],
  attribute: [
    " name value",
    (c) =>
      ATTRIBUTE.test(c.name) &&
      isText(c.value) &&
      (c.name === "srcset" ? safeSrcset(c.value) : !/^(href|src)$/.test(c.name) || safeUrl(c.value)),
    (c) => (el) => [[el, c.name, c.value]],
  ],
  class: [
    " add remove",
    (c) => classList(c.add) && classList(c.remove) && (c.add?.length || c.remove?.length),
    // (Worked out on a detached element, so the element itself is written only when it differs;
    // not a clone, which would load an image again.)
    (c) => (el) => {
      const copy = el.ownerDocument.createElement("b");
      copy.className = el.getAttribute("class") || "";
      copy.classList.add(...(c.add || []));
      copy.classList.remove(...(c.remove || []));
      return [[el, "class", copy.getAttribute("class")]];
    },
  ],
  style: [
    " property value",
    (c) => PROPERTY.test(c.property) && !/[;{}]/.test(c.value) && safeCss(c.value, MAX_SELECTOR),
    (c) => (el) => [[el, `:${c.property}`, c.value]],
  ],
  hide: ["", () => 1, () => (el) => [[el, ":display", "none"]]],
  // The image wins over a <picture>'s sources: they lose their srcset while it is shown.
  image: [
    " src srcset",
    (c) => safeUrl(c.src, true) && (c.srcset == null || safeSrcset(c.srcset)),
    (c) => (el) => [
      [el, "src", c.src],
      [el, "srcset", c.srcset ?? null],
      ...[...(el.closest("picture")?.querySelectorAll("source") || [])].map(
        (source) => /** @type {Write} */ ([source, "srcset", null]),
      ),
    ],
  ],
};

/**
 * The changes of one variant that pass the server's rules, ready to apply; a refused one is
 * left out and reported to `warn` with its path.
 * @param {unknown} changes
 * @param {string} path
 * @param {Warn} warn
 * @returns {CheckedChange[]}
 */
export function checkChanges(changes, path, warn) {
  const list = Array.isArray(changes) && changes.length <= MAX_CHANGES ? changes : [];
  if (changes != null && list !== changes) warn(`ignored ${path}`);
  return list.flatMap((c, i) => {
    const [fields, rule, writes] = ACTIONS[c?.action] || [];
    const ok =
      rule &&
      isText(c.selector, MAX_SELECTOR) &&
      c.selector.trim() &&
      Object.keys(c).every((key) => ` selector action${fields} `.includes(` ${key} `)) &&
      rule(c);
    if (ok) return [/** @type {CheckedChange} */ ([c.selector, writes(c)])];
    warn(`ignored ${path}[${i}]`);
    return [];
  });
}

/** @param {Element} el @param {string} key */
function read(el, key) {
  if (!key) return el.textContent;
  if (key[0] === ":") return /** @type {HTMLElement} */ (el).style.getPropertyValue(key.slice(1)) || null;
  return el.getAttribute(key);
}

/** @param {Element} el @param {string} key @param {string | null} value */
function write(el, key, value) {
  if (!key) el.textContent = value;
  else if (key[0] === ":") {
    const style = /** @type {HTMLElement} */ (el).style;
    if (value == null) style.removeProperty(key.slice(1));
    else style.setProperty(key.slice(1), value, "important");
  } else if (value == null) el.removeAttribute(key);
  else el.setAttribute(key, value);
}

/**
 * What one variant does to the page: `paint` makes the page show it (again, after a
 * re-render: only the slots that differ are written), `revert` puts back what it changed.
 * @param {Document} doc
 * @param {CheckedChange[]} changes
 * @param {string | false} css checked CSS, or false
 */
export function createLook(doc, changes, css) {
  /** @type {Map<Element, Map<string, string | null>>} The values the page had before. */
  const before = new Map();
  /** @type {HTMLStyleElement | null} */
  let sheet = null;
  // The writes in the second since the first: another script undoing a change on every
  // mutation would loop with the observer and freeze the page, so past MAX_WRITES the look
  // stops writing until the second is over (that script's version stays).
  let written = 0;
  return {
    paint() {
      if (written > MAX_WRITES) return;
      if (css && !sheet?.isConnected) {
        sheet = doc.createElement("style");
        sheet.textContent = css;
        (doc.head || doc.documentElement).append(sheet);
      }
      for (const [selector, writes] of changes) {
        /** @type {NodeListOf<Element> | Element[]} */
        let elements = [];
        try {
          elements = doc.querySelectorAll(selector);
        } catch {} // a selector the browser cannot read matches nothing
        for (const el of elements) {
          for (const [target, key, value] of writes(el)) {
            const was = read(target, key);
            if (was === value) continue;
            const kept = before.get(target) || new Map();
            before.set(target, kept);
            if (!kept.has(key)) kept.set(key, was);
            write(target, key, value);
            written++ || setTimeout(() => (written = 0), 1000);
          }
        }
      }
    },
    // (A look is dropped once reverted: a variant shown again gets a new one.)
    revert() {
      sheet?.remove();
      for (const [el, kept] of before) for (const [key, value] of kept) write(el, key, value);
    },
  };
}

/** @typedef {ReturnType<typeof createLook>} Look */
