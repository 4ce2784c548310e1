// What the shop passes in: unit ids and attributes (docs/assignment.md, sections 2 and 7).
// A failed check throws "<path> is invalid": the path names the field, and the rules are
// documented (docs/sdks.md, "Console lines") rather than spelled out in the bundle.

// Python's str.isspace() set: JavaScript's \s without U+FEFF, plus U+001C-U+001F and U+0085
// (test/inputs.test.mjs compares the two on every code point).
const ONLY_SPACE = /^(?:[^\S\ufeff]|[\x1c-\x1f\x85])+$/;

/** @typedef {(message: string) => void} Warn Logs a problem (once) to the console. */

/**
 * Throw "<path> is invalid" unless `condition` holds (config rules: docs/assignment.md). A
 * string, not an Error: every catch writes what it caught as `${error}`, which for a real Error
 * (a bug, a network failure) also gives its name, and the SDK never lets one escape.
 * @param {unknown} condition
 * @param {string} path
 * @returns {asserts condition}
 */
export function need(condition, path) {
  if (!condition) throw `${path} is invalid`;
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
  need(isName(unitId) && !onlySpace(unitId) && !tooLong(unitId, 256), "unitId");
}

/**
 * Throw unless `attributes` is a flat object of at most 100 entries, each named by 1-128 code
 * points and a string, number or boolean of at most 1024 (written out).
 * @param {unknown} attributes
 * @param {string} path
 */
export function checkAttributes(attributes, path) {
  need(isObject(attributes) && Object.keys(attributes).length <= 100, path);
  for (const [name, value] of Object.entries(attributes))
    need(
      name && !tooLong(name, 128) && isScalar(value) && !tooLong(`${value}`, 1024),
      `${path}.${name}`,
    );
}
