// Event queue and sender for POST /v1/events (docs/events.md). One request at a time; a failed
// batch goes back to the front of the queue with its event ids, so a retry is never stored
// twice. When the page is hidden the head of the queue leaves at once as a beacon.

/** 128 random bits in hex (32 characters): event ids and anonymous visitor ids. */
export const randomHex = (g) =>
  [...g.crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => (b + 256).toString(16).slice(1))
    .join("");

// Browsers allow at most 64 KiB of keepalive request bodies in flight.
const KEEPALIVE_BYTES = 60000;

export function createSender(o) {
  const { g, warn, maxBatch, url } = o;
  let queue = [];
  let timer = null;
  let busy = false;
  let attempt = 0;
  let closed = false;

  const online = () => g.navigator?.onLine !== false;
  // Ids are drawn when a batch first leaves (off the assign path) and kept for its retries.
  const withId = (event) => (event.event_id ||= randomHex(g));
  const post = (batch, keepalive) => {
    batch.forEach(withId);
    return o.fetch(url, {
      method: "POST",
      headers: o.headers,
      body: JSON.stringify({ events: batch }),
      keepalive,
    });
  };

  function schedule(delay) {
    if (!timer && !closed) {
      timer = setTimeout(() => {
        timer = null;
        send();
      }, delay);
      timer.unref?.();
    }
  }

  // Sends the head of the queue; resolves when that batch is settled (sent, dropped, requeued).
  async function send() {
    if (busy || !queue.length || closed || !online()) return; // the "online" event flushes again
    busy = true;
    const batch = queue.splice(0, maxBatch);
    let status = 0;
    try {
      status = (await post(batch, false)).status;
    } catch {}
    busy = false;
    const retry = !status || status === 429 || status >= 500;
    if (retry && ++attempt <= o.maxRetries) {
      queue = batch.concat(queue);
      return schedule(Math.min(3e4, o.backoff * 2 ** attempt) * (0.25 + Math.random() / 4));
    }
    if (status > 299) warn(`events not sent (HTTP ${status}); dropped ${batch.length}`);
    attempt = 0;
    if (queue.length) schedule(queue.length < maxBatch && o.flushInterval);
  }

  /**
   * Send the head of the queue now, as the page is hidden or left: with navigator.sendBeacon
   * (the sdk key in the body, as POST /v1/events/beacon takes it), else fetch with keepalive.
   */
  function flushHidden() {
    let n = Math.min(queue.length, maxBatch);
    while (n > 1 && JSON.stringify(queue.slice(0, n)).length > KEEPALIVE_BYTES) n >>= 1;
    if (n && online()) {
      const batch = queue.splice(0, n);
      batch.forEach(withId);
      const beacon = JSON.stringify({ sdk_key: o.key, events: batch });
      if (!g.navigator?.sendBeacon?.(`${url}/beacon`, beacon))
        post(batch, true).catch(() => (queue = batch.concat(queue)));
    }
  }

  return {
    enqueue(event) {
      if (closed) return;
      if (queue.length >= o.maxQueue) return warn("event queue full; dropping events");
      event.timestamp = Date.now();
      // A full batch leaves at once, even while a flush timer waits.
      if (queue.push(event) >= maxBatch) timer = clearTimeout(timer);
      schedule(queue.length < maxBatch && o.flushInterval);
    },
    /** Send the queue in batches now; stops at a failed batch, which waits for its retry. */
    async flush() {
      while (queue.length && !busy && !closed && !attempt && online()) await send();
    },
    flushHidden,
    wake: () => schedule(0),
    close() {
      flushHidden();
      closed = true;
      clearTimeout(timer);
    },
  };
}
