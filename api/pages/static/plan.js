// The live plan of the experiment form: asks the server for the plan's sentence as the design,
// the primary metric, the variants or the traffic change. The page works without it ("Update
// the plan" re-renders the form); the sentence comes from the same planner either way.
(() => {
  "use strict";
  const form = document.querySelector("form.workspace");
  const sentence = document.getElementById("plan-sentence");
  if (!form || !sentence) return;
  const names = [
    "primary", "traffic", "visitors_per_day", "mde_relative", "alpha", "power",
    "baseline_rate", "baseline_cv", "planned_units_per_variant", "population",
    "attribution_hours", "test_share",
  ];
  let timer = null;
  const update = () => {
    const data = new FormData(form);
    const query = new URLSearchParams();
    for (const name of names) {
      const value = data.get(name);
      if (value !== null && value !== "") query.set(name, String(value));
    }
    const variants = data.getAll("variant_key").filter((key) => String(key).trim() !== "");
    query.set("variants", String(Math.min(Math.max(variants.length, 2), 10)));
    fetch(`/plan?${query}`, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : null))
      .then((text) => {
        if (text) sentence.textContent = text;
      })
      .catch(() => {}); // offline: the sentence stays as it was; the button still works
  };
  form.addEventListener("input", (event) => {
    const name = event.target && event.target.name;
    if (!names.includes(name) && name !== "variant_key") return;
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  });
})();
