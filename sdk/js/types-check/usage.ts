// Compiled with `tsc --noEmit` in the test run: the declarations describe the documented use.
import { createClient, type Assignment, type Client } from "../vekst.js";

const client: Client = createClient({
  apiUrl: "https://ab.example",
  sdkKey: "vk_sdk_x",
  qaParam: "vekst_qa",
});
const assignment: Assignment = client.assign("cta-text", undefined, {
  country: "NO",
  cart_value: 649,
});
const text: string = assignment.variant ?? "control";
client.track("purchase", { value: 649, properties: { payment: "vipps" } });
client.setConsent(false);
void client.ready().then(async (ready: boolean) => {
  if (ready) await client.flush();
});
// @ts-expect-error attributes are flat: no nesting
client.assign("cta-text", "visitor-1", { nested: { a: 1 } });
export { text };
