"""The no-code browser tests' shop: the pages, changes and experiments they serve, and the
helpers that open them (`test_browser_nocode.py`)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext

from tests.browser import DESKTOP_USER_AGENT, HIDE_WEBDRIVER
from tests.conftest import ADMIN_KEY
from vekst_sdk.spec import Evaluator

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "api" / "browser_sdk" / "vekst-nocode.min.js"
README = (ROOT / "sdk" / "js" / "README.md").read_text("utf-8")
# The README's anti-flicker snippet, as documented (its timeout is the last number in it).
SNIPPET = re.search(
    r"```html\n(<script>\n  \(function \(w, d, timeout\).*?</script>)\n", README, re.S
)
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
# The API's secret, so that this test signs preview tokens as the experiment page would.
SESSION_SECRET = "nocode-browser-test-secret-0123456789"
CONTROL_TEXT = "Legg i handlekurv"
TREATMENT_TEXT = "Legg i handlekurven"
CTA_CHANGES = [
    {"selector": "#buy", "action": "text", "value": TREATMENT_TEXT},
    {
        "selector": "#hero img",
        "action": "image",
        "src": "/img/treatment.png",
        "srcset": "/img/treatment.png 1x, /img/treatment.png 2x",
    },
    {"selector": "#buy", "action": "class", "add": ["cta-b"]},
]
# A product page whose CTA and hero image a framework-like script renders late (after 80 ms)
# and renders again (after 250 ms, a new element with the control's text).
PRODUCT_BODY = """
<main id="app"></main>
<script>
  const render = () => {
    document.getElementById("app").innerHTML =
      '<picture id="hero"><source srcset="/img/control.png 1x" type="image/png">' +
      '<img src="/img/control.png" srcset="/img/control.png 1x" alt="hero"></picture>' +
      '<button id="buy" class="cta">CONTROL_TEXT</button><a id="more" href="/product/7">More</a>';
  };
  setTimeout(render, 80);
  setTimeout(render, 250);
  setTimeout(() => (document.body.dataset.rendered = "1"), 400);
</script>
""".replace("CONTROL_TEXT", CONTROL_TEXT)
# Records, before every painted frame from the first, what the page shows.
# Records (on the page's clock) when the answer to the SDK's config request arrives.
CONFIG_ARRIVAL = """
window.config_came = null;
const pageFetch = window.fetch.bind(window);
window.fetch = async (...request) => {
  const response = await pageFetch(...request);
  if (String(request[0]).includes("/v1/sdk/config")) window.config_came = performance.now();
  return response;
};
"""


SAMPLE_FRAMES = """
window.frames_seen = [];
const sample = () => {
  const buy = document.getElementById("buy");
  const img = document.querySelector("#hero img");
  const source = document.querySelector("#hero source");
  window.frames_seen.push({
    text: buy && buy.textContent,
    src: img && img.getAttribute("src"),
    sourceSrcset: source && source.getAttribute("srcset"),
    hidden: getComputedStyle(document.documentElement).opacity === "0",
    at: performance.now(),
  });
  requestAnimationFrame(sample);
};
requestAnimationFrame(sample);
"""
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-None-Match",
    "Access-Control-Allow-Methods": "GET, POST",
}
# Notes, on a page of a split-URL test, that the SDK is leaving it (location.replace).
NOTE_LEAVING = "navigation.addEventListener('navigate', () => (window.leaving = true));"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def experiment_config(key: str, variants: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """A running experiment of the SDK config document."""
    return {
        "key": key,
        "salt": f"salt-{key}",
        "status": "running",
        "unit_type": "visitor",
        "variants": variants,
        "targeting": None,
        **fields,
    }


CTA = experiment_config(
    "cta-text",
    [{"key": "control", "weight": 1}, {"key": "treatment", "weight": 1, "changes": CTA_CHANGES}],
    targeting={"attribute": "path", "op": "starts_with", "value": "/product/"},
)


def unit_in(experiment: dict[str, Any], variant: str) -> str:
    """A unit id the experiment assigns to `variant` (the Python SDK decides the same)."""
    evaluator = Evaluator({"version": 1, "experiments": [{**experiment, "targeting": None}]})
    for number in range(1000):
        if evaluator.assign(experiment["key"], f"visitor-{number}").variant == variant:
            return f"visitor-{number}"
    raise AssertionError("no unit found")


def shop_page(settings: str, body: str, *, snippet: str | None = None) -> str:
    """A shop page: the anti-flicker snippet (if any), the no-code build, the client."""
    return f"""<!doctype html><html><head><meta charset="utf-8">
{snippet or ""}
<script src="/vekst-nocode.min.js"></script>
<script>window.vekst = Vekst.createClient({settings});</script>
</head><body>{body}</body></html>"""


def as_js(value: Any) -> str:
    """`value` as JSON inside an inline <script> (a `</script>` in a string would end it)."""
    return json.dumps(value).replace("</", "<\\/")


def client_settings(config: dict[str, Any], **options: Any) -> str:
    return as_js({"config": config, "autoApply": True, "botDetection": False, **options})


def new_visitor(browser: Browser) -> BrowserContext:
    context = browser.new_context(user_agent=DESKTOP_USER_AGENT)
    context.add_init_script(HIDE_WEBDRIVER)
    return context


def write_page(root: Path, path: str, html: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, "utf-8")


def visit_url(context: BrowserContext, url: str) -> str:
    """Open `url`; the page the visitor ends on (`a` or `b`) and its query string."""
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("document.body && document.body.dataset.page")
    return str(page.evaluate("document.body.dataset.page + location.search"))


def landing_page(settings: str, name: str) -> str:
    """A landing page whose visitor is `?visitor=` (else the anonymous one); it tells the page
    that framed it where the visit ended, unless the SDK is leaving it."""
    return f"""<!doctype html><html><head><meta charset="utf-8">
<script src="/vekst-nocode.min.js"></script>
<script>
  const visitor = new URLSearchParams(location.search).get("visitor") || undefined;
  window.vekst = Vekst.createClient({{...{settings}, unitId: visitor}});
</script></head><body><p>{name}</p><script>
  if (!window.leaving) {{
    document.body.dataset.page = "{name}";
    parent.postMessage("{name}" + location.search, "*");
  }}
</script></body></html>"""


# Runs `count` visits of the landing page, `batch` at a time, each a new visitor in an iframe;
# resolves to where each ended (`a` or `b`, with the query string).
VISITS = """async ([count, batch]) => {
  const visit = (number) => new Promise((resolve) => {
    const frame = document.createElement("iframe");
    const done = (event) => {
      if (event.source !== frame.contentWindow) return;
      window.removeEventListener("message", done);
      frame.remove(); // pagehide: what the visit queued leaves as a beacon
      resolve(event.data);
    };
    window.addEventListener("message", done);
    frame.src = `/landing.html?from=ad&visitor=v-${number}`;
    document.body.append(frame);
  });
  const ended = [];
  for (let first = 0; first < count; first += batch) {
    const numbers = [...Array(Math.min(batch, count - first)).keys()].map((i) => first + i);
    ended.push(...(await Promise.all(numbers.map(visit))));
  }
  return ended;
}"""
# The issue asks for 400 visits (`VEKST_TEST_VISITS=400`, docs/benchmarks.md); each costs
# Chromium ~25 ms of a navigation or two, so `make test` runs 100. Fewer still fail on the bug
# this guards: an exposure lost to the navigation breaks the equality of stored and landed
# visits at any count (and all of them lost is a sample ratio mismatch at 100 visits).
VISITS_COUNT = int(os.environ.get("VEKST_TEST_VISITS", "100"))


# A page whose own script puts the control text back whenever the SDK changes it.
UNDOES = f"""<button id="buy">{CONTROL_TEXT}</button><script>
  window.undone = 0;
  const buy = document.getElementById("buy");
  new MutationObserver(() => {{
    if (buy.textContent !== {CONTROL_TEXT!r}) {{
      window.undone++;
      buy.textContent = {CONTROL_TEXT!r};
    }}
  }}).observe(buy, {{ childList: true, characterData: true, subtree: true }});
  buy.textContent = {CONTROL_TEXT!r}; // (the SDK may have shown its text before this script ran)
  window.painted = 0;
  const count = () => (window.painted++, requestAnimationFrame(count));
  requestAnimationFrame(count);
</script>"""
