// The shop's own code around the SDK: one client per page, the CTA text taken from the variant's
// payload, an add-to-cart and a purchase reported as conversions.
const vekst = Vekst.createClient({ ...window.VEKST_SETTINGS, qaParam: "vekst_qa" });
const cta = document.getElementById("cta");
const cart = document.getElementById("cart");

vekst.ready().then(() => {
  // `variant` is null when no config could be loaded: the page keeps its own (control) text.
  const { variant, payload } = vekst.assign("cta-text");
  if (payload && payload.text) cta.textContent = payload.text;
  document.body.dataset.variant = variant || "none";
  document.body.dataset.ready = "true";
});

cta.addEventListener("click", () => {
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
