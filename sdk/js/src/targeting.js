// Targeting conditions (docs/assignment.md, section 8), checked against the grammar and
// compiled to a predicate in one pass. Equality is type-strict (true !== 1, "600" !== 600),
// which === and Set membership give.
import { URL_TARGETING } from "./features.js";
import { has, isNumber, isObject, isScalar, need } from "./inputs.js";

/** @import { Attributes } from "../vekst.js" */
/** @typedef {(attributes: Attributes) => boolean} Predicate */

/** @type {Record<string, (a: number, b: number) => boolean>} */
const COMPARE = {
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
};

/**
 * Whether `text` is `parts` with any runs of characters (none included) between them: the
 * parts are found in order, without a regular expression, so a hostile glob cannot make the
 * match backtrack. The first part starts the text and the last one ends it.
 * @param {string} text
 * @param {string[]} parts
 */
export function fits(text, parts) {
  let at = 0;
  const last = parts.length - 1;
  return parts.every((part, i) => {
    const found = i < last ? text.indexOf(part, at) : text.length - part.length;
    if (i ? found < at : found) return false;
    at = found + part.length;
    return text.startsWith(part, found);
  });
}

/**
 * The text operators as the parts `fits` looks for (`matches` is a glob: `*` is any run).
 * @type {Record<string, (value: string) => string[]>}
 */
const TEXT = {
  starts_with: (value) => [value, ""],
  ends_with: (value) => ["", value],
  contains: (value) => ["", value, ""],
  matches: (value) => value.split("*"),
};

/** How deep conditions nest at most. */
const MAX_DEPTH = 16;
/** The most values of an `in` or `not_in` list. */
const MAX_LIST = 1000;

/**
 * Compile a condition to a predicate over attributes; throws "path rule" when it is invalid.
 * @param {unknown} condition
 * @param {string} path
 * @returns {Predicate}
 */
export function compileTargeting(condition, path, depth = 0) {
  need(depth <= MAX_DEPTH && isObject(condition), path);
  const combinator = ["all", "any", "not"].find((key) => has(condition, key));
  for (const key of Object.keys(condition))
    need(combinator ? key === combinator : ["attribute", "op", "value"].includes(key), `${path}.${key}`);
  if (combinator) {
    const at = `${path}.${combinator}`;
    const children = condition[combinator];
    if (combinator === "not") {
      const inner = compileTargeting(children, at, depth + 1);
      return (attrs) => !inner(attrs);
    }
    need(Array.isArray(children) && children.length, at);
    const compiled = children.map((child, i) => compileTargeting(child, `${at}[${i}]`, depth + 1));
    return combinator === "all"
      ? (attrs) => compiled.every((predicate) => predicate(attrs))
      : (attrs) => compiled.some((predicate) => predicate(attrs));
  }
  const { attribute: name, op, value } = condition;
  need(typeof name === "string" && name, `${path}.attribute`);
  const at = `${path}.value`;
  const given = has(condition, "value");
  if (op === "exists") {
    need(!given || typeof value === "boolean", at);
    return (attrs) => has(attrs, name) === (value !== false);
  }
  // (Not in the core build, which has no room left within its budget.)
  if (URL_TARGETING && has(TEXT, op)) {
    need(typeof value === "string", at);
    const parts = TEXT[op](value);
    return (attrs) => typeof attrs[name] === "string" && fits(attrs[name], parts);
  }
  const compare = has(COMPARE, op) && COMPARE[op];
  const list = op === "in" || op === "not_in";
  need(compare || list || op === "eq" || op === "ne", `${path}.op`);
  if (compare) {
    need(given && isNumber(value), at);
    return (attrs) => has(attrs, name) && isNumber(attrs[name]) && compare(attrs[name], value);
  }
  const ok = list
    ? Array.isArray(value) && value.length && value.length <= MAX_LIST && value.every(isScalar)
    : isScalar(value);
  need(given && ok, at);
  const members = new Set(list ? value : [value]);
  /** @type {Predicate} */
  const member = (attrs) => has(attrs, name) && members.has(attrs[name]);
  return op === "eq" || op === "in" ? member : (attrs) => !member(attrs);
}
