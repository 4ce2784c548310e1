// The core build's flags (build.mjs puts this module in place of features.js).

/** @type {boolean} The core build sends no attributes with exposures. */
export const SEGMENTS = false;
