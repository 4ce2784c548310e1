// What the shop passes in: unit ids and attributes (docs/assignment.md, sections 2 and 7).
// Failed checks throw an Error whose message is "path rule".

// Python's str.isspace() set: JavaScript's \s without U+FEFF, plus U+001C-U+001F and U+0085
// (test/inputs.test.mjs compares the two on every code point).
const ONLY_SPACE = /^(?:[^\S\ufeff]|[\x1c-\x1f\x85])+$/;

/** @typedef {(message: string) => void} Warn Logs a problem (once) to the console. */

/**
 * Throw an Error "path rule" unless `condition` holds (config rules: docs/assignment.md).
 * @param {unknown} condition
 * @param {string} path
 * @param {string | number} [rule]
 * @returns {asserts condition}
 */
export function need(condition, path, rule = "is invalid") {
  if (!condition) throw Error(`${path} ${rule}`);
}

/** @type {(object: object, key: string) => boolean} */
export const has = (object, key) => ({}).hasOwnProperty.call(object, key);

/**
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
export const isObject = (value) =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A finite number. */
export const isNumber = /** @type {(value: unknown) => value is number} */ (Number.isFinite);

/** @type {(value: unknown) => value is string | number | boolean} */
export const isScalar = (value) =>
  typeof value === "string" || typeof value === "boolean" || isNumber(value);

// Lengths count code points, like Python's len().
/** @type {(text: string, max: number) => boolean} */
export const tooLong = (text, max) => text.length > max && [...text].length > max;

/** A non-empty string that is valid Unicode (no lone surrogates), so it can be UTF-8 encoded. */
// (Browsers from before 2023 lack isWellFormed; they hash such an id with U+FFFD instead.)
/**
 * @param {unknown} text
 * @returns {text is string}
 */
export const isName = (text) =>
  typeof text === "string" && text !== "" && text.isWellFormed?.() !== false;

// A regular expression costs about 0.1 us per call: ids starting with a visible ASCII
// character (nearly all) are not only whitespace without one.
/** @type {(text: string, first?: number) => boolean} */
const onlySpace = (text, first = text.charCodeAt(0)) =>
  (first < 33 || first > 126) && ONLY_SPACE.test(text);

/**
 * Whether the server can store a valid attribute value with an exposure: no NUL or lone
 * surrogate in a string, and no integer written out beyond 64 bits (JSON writes numbers from
 * 1e21 on with an exponent, which the server reads as a float). Exposures leave other values
 * out rather than be refused.
 * @param {string | number | boolean} value
 */
export function storable(value) {
  if (typeof value === "string") return value.isWellFormed?.() !== false && !value.includes("\0");
  const size = Math.abs(Number(value));
  return !Number.isInteger(value) || size < 2 ** 63 || size >= 1e21;
}

/**
 * Throw unless `unitId` is 1-256 code points of valid Unicode, not only whitespace.
 * @param {unknown} unitId
 * @returns {asserts unitId is string}
 */
export function checkUnitId(unitId) {
  need(
    isName(unitId) && !onlySpace(unitId) && !tooLong(unitId, 256),
    "unitId",
    "must be 1-256 chars, not only spaces",
  );
}

/**
 * Throw unless `attributes` is a flat object of at most 100 strings, numbers or booleans.
 * @param {unknown} attributes
 * @param {string} path
 */
export function checkAttributes(attributes, path) {
  need(
    isObject(attributes) && Object.keys(attributes).length <= 100,
    path,
    "must be an object of <= 100 entries",
  );
  for (const [name, value] of Object.entries(attributes)) {
    need(name && !tooLong(name, 128), `${path}.${name}`, "names must be 1-128 chars");
    need(
      isScalar(value) && !tooLong(`${value}`, 1024),
      `${path}.${name}`,
      "must be a number, boolean or string of <= 1024 chars",
    );
  }
}
