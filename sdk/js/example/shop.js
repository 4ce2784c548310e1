// The shop's own code around the SDK: one client per page, a consent banner, the CTA text taken
// from the variant's payload, a CTA click, an add-to-cart and a purchase reported as conversions.

// The shop remembers the visitor's choice itself ("yes", "no", or null before any choice).
const CHOICE = "shop_consent";
const choice = localStorage.getItem(CHOICE);
// Consent is opt-in: without it the SDK keeps no id, shows the control and sends nothing.
const vekst = Vekst.createClient({
  ...window.VEKST_SETTINGS,
  qaParam: "vekst_qa",
  consent: choice === "yes",
});
const cta = document.getElementById("cta");
const cart = document.getElementById("cart");
const banner = document.getElementById("consent");

function show() {
  // `variant` is null when no config could be loaded: the page keeps its own (control) text.
  const { variant, payload } = vekst.assign("cta-text");
  if (payload && payload.text) cta.textContent = payload.text;
  document.body.dataset.variant = variant || "none";
  document.body.dataset.ready = "true";
}

vekst.ready().then(show);

banner.hidden = choice !== null;
document.getElementById("consent-accept").addEventListener("click", () => {
  localStorage.setItem(CHOICE, "yes");
  banner.hidden = true;
  vekst.setConsent(true); // now the id is kept in a cookie, and the visitor gets a variant
  vekst.ready().then(show);
});
document.getElementById("consent-decline").addEventListener("click", () => {
  localStorage.setItem(CHOICE, "no");
  banner.hidden = true;
});

cta.addEventListener("click", () => {
  vekst.track("cta_click"); // what the `cta` template's primary metric, cta_click_rate, counts
  vekst.track("add_to_cart", { value: 649 });
  cart.textContent = String(Number(cart.textContent) + 1);
});

document.getElementById("checkout").addEventListener("click", () => {
  vekst.track("purchase", {
    value: 649 * Math.max(1, Number(cart.textContent)),
    properties: { payment: "vipps" },
  });
  // Leaving the page: the SDK sends what is queued with `keepalive` as the page is hidden.
  location.href = "thanks.html";
});
