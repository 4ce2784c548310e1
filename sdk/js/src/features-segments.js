// The segments build's flags (build.mjs puts this module in place of features.js).

/** @type {boolean} Exposures carry the experiment's dimensions. */
export const SEGMENTS = true;

/** @type {boolean} The segments build applies no no-code changes (`autoApply` is ignored). */
export const NOCODE = false;

/** @type {boolean} Targeting takes the text operators. */
export const URL_TARGETING = true;
