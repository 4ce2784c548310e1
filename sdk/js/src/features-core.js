// The core build's flags (build.mjs puts this module in place of features.js).

/** @type {boolean} The core build sends no attributes with exposures. */
export const SEGMENTS = false;

/** @type {boolean} The core build applies no no-code changes (`autoApply` is ignored). */
export const NOCODE = false;

/** @type {boolean} Targeting refuses the text operators (an experiment using them serves its
 * control, reason invalid_config): the core build has no room for them. */
export const URL_TARGETING = false;
