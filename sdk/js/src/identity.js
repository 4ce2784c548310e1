// The anonymous visitor id and the remembered exposures live in first-party cookies with a
// lifetime in days. Blocked cookies are logged once and only mean the id lasts for this page.

/** A cookie store with get (a falsy value when there is none) and set (a null value deletes)
 * that never throws. */
export function cookieStore(g, days, warn) {
  const guard = (action) => (name, value) => {
    try {
      return action(g.document, name, value);
    } catch (error) {
      warn(`cookies are unavailable: ${error}`);
      return null;
    }
  };
  return {
    get: guard((doc, name) => {
      const found = `; ${doc.cookie}`.split(`; ${name}=`)[1];
      return found && decodeURIComponent(found.split(";")[0]);
    }),
    set: guard((doc, name, value) => {
      const secure = g.location?.protocol === "https:" ? "; Secure" : "";
      const age = value == null ? 0 : Math.round(days * 86400);
      doc.cookie = `${name}=${encodeURIComponent(value ?? "")}; Max-Age=${age}; Path=/; SameSite=Lax${secure}`;
    }),
  };
}
