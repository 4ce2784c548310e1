// The no-code build's flags (build.mjs puts this module in place of features.js): no segment
// attributes, so that the script-tag bundle with auto-apply stays within 7 KB gzipped.

/** @type {boolean} The no-code build sends no attributes with exposures. */
export const SEGMENTS = false;

/** @type {boolean} `autoApply` shows the variants' no-code changes and redirects. */
export const NOCODE = true;

/** @type {boolean} Targeting takes the text operators (URL targeting). */
export const URL_TARGETING = true;
