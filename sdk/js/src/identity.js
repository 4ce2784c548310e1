// The visitor: the shop's unit id, or the anonymous visitor id in a first-party cookie, and the
// exposures already sent for it. Cookies live `idDays` days; blocked cookies are logged once and
// only mean the id lasts for this page.
import { randomHex } from "./events.js";
import { SEGMENTS } from "./features.js";
import { murmur3 } from "./hash.js";

/** @import { ClientOptions } from "../vekst.js" */
/** @import { Warn } from "./inputs.js" */

const SECONDS_PER_DAY = 86400;
// How many exposures of the anonymous visitor its cookie remembers (the newest), and how many
// sticky assignments the sticky cookie keeps (the newest): about 20 bytes each.
const MAX_MARKS = 20;
// How many units per experiment the page remembers as exposed before it starts afresh.
const MAX_EXPOSED_UNITS = 1e5;


/**
 * The visitor and its exposures. Opt-in: without consent no cookie is read or written and no
 * id is made. An exposure is sent once per unit, experiment and variant: remembered in memory
 * per experiment (unit -> variant, without allocating on a repeat call), and for the anonymous
 * visitor also as short marks in a cookie named "<idName>_seen", so a reload does not expose
 * again. Sticky assignments are kept in the cookie "<idName>_sticky", also only with consent:
 * "<mark>.<variant>" entries, the mark a hash of experiment, sticky version and unit id.
 * @param {Window} g
 * @param {ClientOptions & {idName: string, idDays: number}} options
 * @param {Warn} warn
 */
export function createVisitor(g, { idName, idDays, unitId, consent }, warn) {
  /** A cookie's short mark of `text`: its hash in base 36. @param {string} text */
  const markOf = (text) => murmur3(text).toString(36);
  const seenName = `${idName}_seen`;
  const stickyName = `${idName}_sticky`;
  let consented = !!consent;
  /** @type {string | null} */
  let anonymousId = null;
  // "returning" when the id cookie was there before this page made the id, else "new".
  let visitorType = "returning";
  /** @type {Record<string, Map<string, string>>} The mark cookies' entries, read on first use. */
  let marks = {};
  /** @type {Map<string, Map<string, string | null>>} */
  const exposed = new Map();

  /**
   * Runs a cookie access that may throw (blocked cookies); a failure is logged.
   * @template R
   * @param {(doc: Document) => R} access
   */
  function guarded(access) {
    try {
      return access(g.document);
    } catch (error) {
      warn(`no cookies: ${error}`);
    }
  }

  /** The cookie's value, or a falsy value when there is none. @param {string} name */
  const readCookie = (name) =>
    guarded((doc) => {
      const found = `; ${doc.cookie}`.split(`; ${name}=`)[1];
      return found && decodeURIComponent(found.split(";")[0]);
    });

  /** Sets the cookie; a null value deletes it. @param {string} name @param {string | null} value */
  const writeCookie = (name, value) =>
    guarded((doc) => {
      doc.cookie =
        `${name}=${encodeURIComponent(value || "")}; Max-Age=` +
        `${value == null ? 0 : Math.round(idDays * SECONDS_PER_DAY)}; Path=/; SameSite=Lax` +
        (g.location?.protocol === "https:" ? "; Secure" : "");
    });

  /**
   * The entries of the mark cookie `name`, comma-separated "<mark>.<value>" (an exposure's
   * mark has no value), by mark.
   * @param {string} name
   */
  const marksOf = (name) =>
    (marks[name] ||= new Map(
      // (No cookie: no entries.)
      readCookie(name)
        ?.split(",")
        .map((entry) => /** @type {[string, string]} */ (entry.split("."))),
    ));

  /**
   * Keeps the mark of `text` (with `value`) as the newest entry of the mark cookie `name`, which
   * holds at most MAX_MARKS.
   * @param {string} name
   * @param {string} text
   * @param {string} [value]
   */
  function keepMark(name, text, value = "") {
    const entries = marksOf(name);
    const mark = markOf(text);
    entries.delete(mark);
    entries.set(mark, value);
    writeCookie(
      name,
      [...entries]
        .slice(-MAX_MARKS)
        .map((entry) => entry.join("."))
        .join(),
    );
  }

  const visitor = {
    /** The unit id used when none is passed: the shop's, the anonymous one, or null. */
    id() {
      if (unitId != null) return String(unitId);
      if (consented && !anonymousId) {
        // (The segments build notes a visitor whose id is made here as new.)
        anonymousId = readCookie(idName) || (SEGMENTS && (visitorType = "new"), randomHex(g));
        writeCookie(idName, anonymousId);
      }
      return consented ? anonymousId : null;
    },

    /** Give or withdraw consent to keep the anonymous id; withdrawing deletes its cookies. */
    giveConsent(/** @type {boolean} */ given) {
      if (!(consented = !!given)) {
        anonymousId = null;
        marks = {};
        [idName, seenName, stickyName].forEach((name) => writeCookie(name, null));
      }
    },

    /**
     * True the first time `unit` is assigned `variant` of the experiment.
     * @param {string} experimentKey
     * @param {string | null} variant
     * @param {string} unit
     */
    firstExposure(experimentKey, variant, unit) {
      // (Typed as found: `?.` below covers none yet, which gets a new map as too many do.)
      let units = /** @type {Map<string, string | null>} */ (exposed.get(experimentKey));
      if (!(units?.size <= MAX_EXPOSED_UNITS)) exposed.set(experimentKey, (units = new Map()));
      if (units.get(unit) === variant) return false;
      units.set(unit, variant);
      if (unit !== anonymousId) return true;
      const text = experimentKey + "\0" + variant;
      if (marksOf(seenName).has(markOf(text))) return false;
      keepMark(seenName, text);
      return true;
    },

    /**
     * The variant kept in the sticky cookie under `text` (without `variant`), or keep `variant`
     * there; nothing without consent.
     * @param {string} text
     * @param {string} [variant]
     */
    stick(text, variant) {
      if (consented)
        return variant ? keepMark(stickyName, text, variant) : marksOf(stickyName).get(markOf(text));
    },
  };
  /** @type {typeof visitor & {kind: () => {visitor_type: string} | null}} */
  const withKind = /** @type {any} */ (visitor);
  // `{visitor_type: "new" | "returning"}` while the anonymous id is in use (with consent).
  if (SEGMENTS) withKind.kind = () => (anonymousId ? { visitor_type: visitorType } : null);
  return withKind;
}
