// The attributes the segments build knows by itself: device from User-Agent Client Hints or the
// user agent, source from the page URL's utm parameters and the referrer's host.
import assert from "node:assert/strict";
import { test } from "node:test";
import { deviceOf, pageAttributes, sourceOf } from "../src/attributes.js";
import { fakeWindow } from "./fakes.mjs";

const AGENTS = {
  windowsChrome:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  macSafari:
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  linuxFirefox: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  iPhone:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  iPadOld:
    "Mozilla/5.0 (iPad; CPU OS 12_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1",
  androidPhoneChrome:
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
  androidTabletChrome:
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  androidPhoneFirefox: "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
  androidTabletFirefox: "Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0",
  samsungTablet:
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
};

test("device: the user agent string where the browser has no client hints", () => {
  const expected = {
    windowsChrome: "desktop",
    macSafari: "desktop",
    linuxFirefox: "desktop",
    iPhone: "mobile",
    iPadOld: "tablet",
    androidPhoneChrome: "mobile",
    androidTabletChrome: "tablet",
    androidPhoneFirefox: "mobile",
    androidTabletFirefox: "tablet",
    samsungTablet: "tablet",
  };
  for (const [name, device] of Object.entries(expected))
    assert.equal(deviceOf({ userAgent: AGENTS[name] }), device, name);
  assert.equal(deviceOf(undefined), "desktop");
  assert.equal(deviceOf({}), "desktop");
});

test("device: User-Agent Client Hints decide mobile where present", () => {
  const cases = [
    // (Chrome's reduced user agent; the hints have the last word on mobile.)
    [AGENTS.androidPhoneChrome, { mobile: true }, "mobile"],
    [AGENTS.androidTabletChrome, { mobile: false }, "tablet"],
    [AGENTS.windowsChrome, { mobile: false }, "desktop"],
    // A desktop user agent whose hints say mobile (an emulated phone) is mobile.
    [AGENTS.windowsChrome, { mobile: true }, "mobile"],
    // A phone user agent whose hints say not mobile ("desktop site") is a desktop.
    [AGENTS.androidPhoneChrome, { mobile: false }, "desktop"],
    // Hints without `mobile` fall back to the user agent.
    [AGENTS.iPhone, {}, "mobile"],
  ];
  for (const [userAgent, userAgentData, device] of cases)
    assert.equal(
      deviceOf({ userAgent, userAgentData }),
      device,
      `${userAgent} ${JSON.stringify(userAgentData)}`,
    );
});

test("source: utm_medium first, then utm_source, then the referrer's host", () => {
  const cases = [
    ["?utm_medium=cpc&utm_source=google", "", "paid"],
    ["?utm_medium=paid_social&utm_source=facebook", "", "paid"],
    ["?utm_medium=PPC", "", "paid"],
    ["?utm_medium=display", "https://www.google.com/", "paid"],
    ["?utm_medium=email&utm_source=newsletter", "", "email"],
    ["?utm_medium=e-mail", "", "email"],
    ["?utm_medium=newsletter", "", "email"],
    ["?utm_medium=social&utm_source=instagram", "", "social"],
    ["?utm_medium=organic&utm_source=bing", "", "search"],
    ["?utm_medium=referral&utm_source=blog.example", "", "referral"],
    // An unknown medium says nothing: the source or the referrer decide.
    ["?utm_medium=push&utm_source=facebook", "", "social"],
    ["?utm_source=google", "", "search"],
    ["?utm_source=fb", "", "social"],
    ["?utm_source=partner", "https://www.bing.com/", "search"],
    // The referrer's host, on whole labels.
    ["", "https://www.google.no/", "search"],
    ["", "https://www.kvasir.no/alle?q=sofa", "search"],
    ["", "https://duckduckgo.com/", "search"],
    ["", "https://l.facebook.com/l.php?u=x", "social"],
    ["", "https://t.co/abc", "social"],
    ["", "https://www.instagram.com/", "social"],
    ["", "https://www.prisjakt.no/product.php?p=1", "referral"],
    ["", "https://googleshopping.example/", "referral"],
    ["", "https://mytco.example/", "referral"],
    ["", "", "direct"],
    ["", "not a url", "direct"],
    // A page reached from the shop itself does not know how the visit began.
    ["", "https://shop.example/product/41", undefined],
    ["", "https://www.shop.example/", undefined],
  ];
  for (const [search, referrer, source] of cases)
    assert.equal(sourceOf(search, referrer, "shop.example"), source, `${search} ${referrer}`);
});

test("pageAttributes reads the window: device always, source when known", () => {
  assert.deepEqual(
    pageAttributes(fakeWindow({ userAgent: AGENTS.iPhone, referrer: "https://www.google.com/" })),
    { device: "mobile", source: "search" },
  );
  assert.deepEqual(
    pageAttributes(fakeWindow({ referrer: "https://shop.example/cart" })),
    { device: "desktop" },
  );
  assert.deepEqual(pageAttributes({}), { device: "desktop", source: "direct" });
});
