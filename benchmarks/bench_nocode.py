"""Applying no-code changes in Chromium (issue #25): how long the no-code build takes to show a
variant of 20 changes, against the same page with a variant of none.

Each run loads a fresh page (Debian's Chromium through Playwright, as the browser tests do)
holding 20 product tiles and the built `api/browser_sdk/vekst-nocode.min.js`; in the page,
`performance.now()` is read before `createClient({config, autoApply: true})` and once the
variant is on the page (the client ready, its autoApply run done). The same run alternates a
variant of 20 changes (10 texts, 5 images, 3 classes, 2 styles, one per tile) and an empty
one, so the difference of their medians is the applying itself; a third timing re-applies the
20 changes after every tile was rendered again (the MutationObserver's work).

    .venv/bin/python -m benchmarks.bench_nocode --runs 40
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from tests.browser import DESKTOP_USER_AGENT, HIDE_WEBDRIVER, launch_chromium, serve_directory
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "api" / "browser_sdk" / "vekst-nocode.min.js"
TILES = 20


def changes() -> list[dict[str, Any]]:
    """One change per tile: 10 texts, 5 images, 3 classes, 2 styles."""
    made: list[dict[str, Any]] = []
    for tile in range(TILES):
        selector = f"#tile-{tile}"
        if tile < 10:
            made.append({"selector": f"{selector} button", "action": "text", "value": "Kjøp nå"})
        elif tile < 15:
            made.append({"selector": f"{selector} img", "action": "image", "src": "/b.png"})
        elif tile < 18:
            made.append({"selector": selector, "action": "class", "add": ["promo"]})
        else:
            style = {"property": "background-color", "value": "#e4002b"}
            made.append({"selector": selector, "action": "style", **style})
    return made


def config(variant_changes: list[dict[str, Any]]) -> dict[str, Any]:
    """A config whose experiment gives every visitor its treatment (weights 1e-6 : 1)."""
    return {
        "version": 1,
        "experiments": [
            {
                "key": "tiles",
                "salt": "bench",
                "status": "running",
                "unit_type": "visitor",
                "variants": [
                    {"key": "control", "weight": 1e-6, "changes": []},
                    {"key": "treatment", "weight": 1, "changes": variant_changes},
                ],
            }
        ],
    }


# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
TILE_HTML = "".join(
    f'<div id="tile-{i}" class="tile"><img src="/a.png"><button>Legg i handlekurv</button></div>'
    for i in range(TILES)
)
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="/vekst-nocode.min.js"></script></head><body><main id="shop">%s</main></body></html>"""
# Times createClient until the variant is shown; then re-renders every tile and times the
# observer's re-apply. Resolves to [first, reapply] in milliseconds.
MEASURE = """async (config) => {
  const started = performance.now();
  const client = Vekst.createClient({ config, autoApply: true, unitId: "visitor-1",
                                      botDetection: false, refreshInterval: 0 });
  await client.ready();
  await Promise.resolve();
  const shown = performance.now() - started;
  const shop = document.getElementById("shop");
  const html = shop.innerHTML;
  let reapplied = 0;
  await new Promise((resolve) => {
    const before = performance.now();
    shop.innerHTML = html.replaceAll("Kjøp nå", "Legg i handlekurv");
    queueMicrotask(() => queueMicrotask(() => {
      reapplied = performance.now() - before;
      resolve();
    }));
  });
  return [shown, reapplied];
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        shutil.copy(BUNDLE, root / "vekst-nocode.min.js")
        (root / "index.html").write_text(PAGE.replace("%s", TILE_HTML), "utf-8")
        for name in ("a.png", "b.png"):
            (root / name).write_bytes(PNG)
        timings: dict[str, list[float]] = {"20 changes": [], "no changes": [], "re-apply": []}
        with launch_chromium() as browser, serve_directory(root, free_port()) as base:
            context = browser.new_context(user_agent=DESKTOP_USER_AGENT)
            context.add_init_script(HIDE_WEBDRIVER)
            page = context.new_page()
            for _ in range(args.runs):
                for name, variant in (("20 changes", changes()), ("no changes", [])):
                    page.goto(f"{base}/index.html")
                    shown, reapplied = page.evaluate(MEASURE, config(variant))
                    timings[name].append(shown)
                    if variant:
                        assert page.inner_text("#tile-9 button") == "Kjøp nå"  # re-applied
                        timings["re-apply"].append(reapplied)
            context.close()
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(json.dumps({"machine": platform.processor() or platform.machine(), "runs": args.runs}))  # noqa: T201
    for name, value in medians.items():
        print(f"{name:>12}: median {value:.3f} ms over {len(timings[name])} runs")  # noqa: T201
    applying = medians["20 changes"] - medians["no changes"]
    print(f"applying 20 changes: {applying:.3f} ms (difference of the medians)")  # noqa: T201


if __name__ == "__main__":
    main()
