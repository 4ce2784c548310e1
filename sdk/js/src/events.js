// Event queue and sender for POST /v1/events (docs/events.md). One request at a time; a failed
// batch goes back to the front of the queue with its event ids, so a retry is never stored
// twice. When the page is hidden the head of the queue leaves at once as a beacon.

/** @import { Warn } from "./inputs.js" */

/**
 * An exposure or a conversion in the wire format of docs/events.md; the sender adds the
 * timestamp, and the event id when the event first leaves.
 * @typedef {{
 *   type: "exposure" | "conversion",
 *   unit_id: string,
 *   experiment?: string,
 *   variant?: string | null,
 *   name?: string,
 *   value?: number,
 *   properties?: Record<string, string | number | boolean>,
 *   attributes?: Record<string, string | number | boolean>,
 *   timestamp?: number,
 *   event_id?: string,
 * }} Event
 */

/**
 * The batching and retry settings of ClientOptions, with their defaults filled in.
 * @typedef {{
 *   maxBatch: number,
 *   maxQueue: number,
 *   maxRetries: number,
 *   backoff: number,
 *   flushInterval: number,
 * }} SenderOptions
 */

/**
 * 128 random bits in hex (32 characters): event ids and anonymous visitor ids.
 * @param {Window} g
 */
export const randomHex = (g) =>
  [...g.crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => (b + 256).toString(16).slice(1))
    .join("");

// Browsers allow at most 64 KiB of keepalive request bodies in flight.
const KEEPALIVE_BYTES = 60000;
// The longest wait before a retry, whatever the backoff has grown to.
const MAX_BACKOFF_MS = 30000;
// The timer delay that sends at once.
const AT_ONCE = 0;
// The status of a send that got no answer (a network error).
const NO_ANSWER = 0;

/**
 * The event queue of one client on the window `g`, posting with `fetch` to `url` (POST
 * /v1/events) with the sdk `key`.
 * @param {Window} g
 * @param {Warn} warn
 * @param {typeof globalThis.fetch} fetch
 * @param {string} url
 * @param {string} key
 * @param {{Authorization: string}} auth the headers that give the key
 * @param {SenderOptions} options
 */
export function createSender(
  g,
  warn,
  fetch,
  url,
  key,
  auth,
  { maxBatch, maxQueue, maxRetries, backoff, flushInterval },
) {
  /** @type {Event[]} */
  let queue = [];
  /** @type {number | undefined} */
  let timer;
  /** @type {boolean | undefined} */
  let busy;
  let attempt = 0;
  /** @type {boolean | undefined} */
  let closed;

  const headers = { ...auth, "Content-Type": "application/json" };
  const online = () => g.navigator?.onLine !== false;
  // The head of the queue, `n` events. Ids are drawn when an event first leaves (off the assign
  // path) and kept for its retries.
  const take = (/** @type {number} */ n) =>
    queue.splice(0, n).map((event) => ((event.event_id ||= randomHex(g)), event));
  const post = (/** @type {Event[]} */ batch, /** @type {boolean} */ keepalive) =>
    fetch(url, { method: "POST", headers, body: JSON.stringify({ events: batch }), keepalive });

  /** @param {number} delay */
  function schedule(delay) {
    if (!timer && !closed) {
      timer = setTimeout(() => {
        timer = 0;
        send();
      }, delay);
      /** @type {{unref?: () => void}} */ (timer).unref?.();
    }
  }

  // Sends the head of the queue; resolves when that batch is settled (sent, dropped, requeued),
  // to true when the next batch may follow at once.
  async function send() {
    if (busy || !queue.length || closed || !online()) return; // the "online" event flushes again
    busy = true;
    const batch = take(maxBatch);
    let status = NO_ANSWER;
    try {
      status = (await post(batch, false)).status;
    } catch {}
    busy = false;
    const retry = status === NO_ANSWER || status === 429 || status >= 500;
    if (retry && ++attempt <= maxRetries) {
      queue = batch.concat(queue);
      // Exponential backoff, capped, times a random factor between 1/4 and 1/2.
      const delay = Math.min(MAX_BACKOFF_MS, backoff * 2 ** attempt);
      return schedule(delay * (0.25 + Math.random() / 4));
    }
    if (status > 299) warn(`dropped ${batch.length} events (HTTP ${status})`);
    attempt = 0;
    // A short queue waits for more events; a full batch leaves at once.
    if (queue.length) schedule(queue.length < maxBatch ? flushInterval : AT_ONCE);
    return true;
  }

  /**
   * Send the head of the queue now, as the page is hidden or left: with navigator.sendBeacon
   * (the sdk key in the body, as POST /v1/events/beacon takes it), else fetch with keepalive.
   */
  function flushHidden() {
    let n = queue.length < maxBatch ? queue.length : maxBatch;
    while (n > 1 && JSON.stringify(queue.slice(0, n)).length > KEEPALIVE_BYTES) n >>= 1;
    if (n && online()) {
      const batch = take(n);
      const beacon = JSON.stringify({ sdk_key: key, events: batch });
      if (!g.navigator?.sendBeacon?.(`${url}/beacon`, beacon))
        post(batch, true).catch(() => (queue = batch.concat(queue)));
    }
  }

  return {
    /** @param {Event} event */
    enqueue(event) {
      if (closed) return;
      if (queue.length >= maxQueue) return warn("event queue full");
      event.timestamp = Date.now();
      // A full batch leaves at once, even while a flush timer waits.
      if (queue.push(event) >= maxBatch) {
        clearTimeout(timer);
        timer = 0;
      }
      schedule(queue.length < maxBatch ? flushInterval : AT_ONCE);
    },
    /** Send the queue in batches now; stops at a failed batch, which waits for its retry. */
    async flushAll() {
      while (await send());
    },
    flushHidden,
    /** Send now what waits for the network (the page is back online). */
    wake: () => schedule(AT_ONCE),
    stop() {
      flushHidden();
      closed = true;
      clearTimeout(timer);
    },
  };
}

/** @typedef {ReturnType<typeof createSender>} Sender */
