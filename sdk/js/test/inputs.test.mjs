// Unit ids that are only whitespace are refused by the same rule as Python's str.isspace().
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkUnitId } from "../src/inputs.js";

// [c for c in range(0x110000) if chr(c).isspace()] in Python 3.
const PYTHON_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000,
  0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
  0x2029, 0x202f, 0x205f, 0x3000,
]);

const refused = (unitId) => {
  try {
    checkUnitId(unitId, "unitId");
    return false;
  } catch {
    return true;
  }
};

test("an id of one character is refused exactly when Python calls it whitespace", () => {
  for (let code = 0; code < 0x110000; code++) {
    if (code >= 0xd800 && code < 0xe000) continue; // lone surrogates: refused as invalid
    const text = String.fromCodePoint(code);
    assert.equal(refused(text), PYTHON_SPACE.has(code), `U+${code.toString(16)}`);
    if (PYTHON_SPACE.has(code)) assert.equal(refused(`${text}a${text}`), false);
  }
  assert.equal(refused("\u2028 \t\x1c\x85"), true);
  assert.equal(refused("\ufeff"), false); // JavaScript's \s has it, Python's isspace does not
});
