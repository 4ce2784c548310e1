// The attributes the segments build knows by itself, for experiments that name them as
// dimensions: `device` and `source`, read from what every page load already tells the page
// (no cookie, no storage, no fingerprint: one coarse class each). `visitor_type` needs the
// visitor's consent and lives with the id cookie (identity.js).

/** @import { Attributes } from "../vekst.js" */

// utm_medium values by the source they mean, checked in this order ("paid_social" is paid).
/** @type {[string, RegExp][]} */
const MEDIUMS = [
  ["paid", /cp[acmv]|ppc|paid|display|banner|affiliate/],
  ["email", /mail|newsletter/],
  ["social", /social/],
  ["search", /organic/],
  ["referral", /referral/],
];

// Sites by the source they mean, matched on a whole label of a host name ("www.google.no",
// "l.facebook.com", "t.co") or on a utm_source ("google", "fb").
/** @type {[string, RegExp][]} */
const SITES = [
  [
    "social",
    /(^|\.)(facebook|fb|instagram|ig|linkedin|lnkd|pinterest|reddit|tiktok|youtube|snapchat|threads|twitter|x|t)(\.|$)/,
  ],
  [
    "search",
    /(^|\.)(google|bing|duckduckgo|yahoo|yandex|baidu|ecosia|kvasir|startpage|qwant|brave)(\.|$)/,
  ],
];

/**
 * The first source of `table` whose pattern matches `text` (lower-cased), or undefined.
 * @param {[string, RegExp][]} table
 * @param {string | null | undefined} text
 */
const sourceIn = (table, text) =>
  table.find(([, pattern]) => text && pattern.test(text.toLowerCase()))?.[0];

/**
 * The visitor's device: "mobile", "tablet" or "desktop". User-Agent Client Hints say
 * mobile or not where the browser has them; tablets and browsers without them are told by the
 * user agent string. iPads that present themselves as Macs (iPadOS 13 and later) count as
 * desktops: telling them apart would take more than the user agent says.
 * @param {{userAgent?: string, userAgentData?: {mobile?: boolean}} | undefined} navigator
 */
export function deviceOf(navigator) {
  const agent = navigator?.userAgent || "";
  if (/iPad|Tablet|Android(?!.*Mobile)/i.test(agent) && !navigator?.userAgentData?.mobile)
    return "tablet";
  const mobile = navigator?.userAgentData?.mobile ?? /Mobi|iPhone|iPod|Android/i.test(agent);
  return mobile ? "mobile" : "desktop";
}

/**
 * How the visitor reached this page: from the page URL's `utm_medium`, else its `utm_source`,
 * else the referrer's host ("direct" without a referrer). Undefined when the referrer is this
 * site itself: a later page of the visit does not know how the visit began (nothing is stored
 * to remember it), so the shop passes `source` itself for experiments on such pages.
 * @param {string} search the page URL's query ("?utm_medium=cpc&...")
 * @param {string} referrer the referrer URL, "" when there is none
 * @param {string} host the page's host name
 * @returns {string | undefined}
 */
export function sourceOf(search, referrer, host) {
  const query = new URLSearchParams(search);
  const tagged =
    sourceIn(MEDIUMS, query.get("utm_medium")) || sourceIn(SITES, query.get("utm_source"));
  if (tagged) return tagged;
  let from = "";
  try {
    from = new URL(referrer).hostname;
  } catch {}
  if (!from) return "direct";
  const site = (/** @type {string} */ name) => name.replace(/^www\./, "");
  return site(from) === site(host) ? undefined : sourceIn(SITES, from) || "referral";
}

/**
 * The `device` and (when known) `source` of the page in the window `g`.
 * @param {Window} g
 * @returns {Attributes}
 */
export function pageAttributes(g) {
  /** @type {Attributes} */
  const found = { device: deviceOf(g.navigator) };
  const { search = "", hostname = "" } = g.location || {};
  const source = sourceOf(search, g.document?.referrer || "", hostname);
  if (source) found.source = source;
  return found;
}
