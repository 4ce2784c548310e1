// Type declarations of the Vekst browser SDK, written by hand. The code (plain JavaScript with
// JSDoc) takes its public types from here, and `npm test` checks it against them with tsc
// (`checkJs` in tsconfig.json; types-check/surface.ts compares the exports).

/** A JSON value, as carried by a variant's payload. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Targeting attributes: a flat object of strings, finite numbers and booleans. */
export type Attributes = Record<string, string | number | boolean>;

/** Why a visitor got its variant (docs/assignment.md, section 6). */
export type Reason =
  | "split"
  | "sticky"
  | "holdout"
  | "override"
  | "not_targeted"
  | "not_in_traffic"
  | "winner"
  | "stopped"
  | "invalid_input"
  | "unknown_experiment"
  | "not_ready"
  | "error"
  | "invalid_config"
  | "bot"
  | "no_consent";

/** The variant of one experiment for one visitor. The object and its payload are frozen. */
export interface Assignment {
  readonly experiment: string;
  /** The variant key; `null` while no config is loaded or for an unknown experiment. */
  readonly variant: string | null;
  /** The variant's payload; `null` when `variant` is `null`. */
  readonly payload: Json;
  /** True only for visitors randomised into a running experiment (their exposure is sent). */
  readonly inExperiment: boolean;
  readonly reason: Reason;
}

export interface ClientOptions {
  /** Base URL of the Vekst API, e.g. "https://ab.example.com". */
  apiUrl?: string;
  /** An sdk-scoped key (never an admin or server key: it would be public in the page). */
  sdkKey?: string;
  /** A config document (GET /v1/sdk/config) to start from, e.g. rendered into the page. */
  config?: unknown;
  /** The shop's own unit id (a customer number); default: the anonymous visitor id. */
  unitId?: string;
  /**
   * Whether the visitor agreed to the anonymous id in a cookie (default false: opt-in). Without
   * it (and without `unitId`) `assign` gives the control (reason "no_consent") and nothing is
   * sent; `setConsent(true)` gives it later.
   */
  consent?: boolean;
  /** Name of the visitor-id cookie (default "vekst_id"; exposures seen: "<name>_seen"). */
  idName?: string;
  /** Lifetime of the visitor-id cookie in days (default 365). */
  idDays?: number;
  /** Seconds between config refreshes (default 60; 0 turns polling off). */
  refreshInterval?: number;
  /** Milliseconds `ready()` waits at most (default 3000). */
  readyTimeout?: number;
  /** Milliseconds events wait to be batched (default 2000). */
  flushInterval?: number;
  /** Events per request (default 100). */
  maxBatch?: number;
  /** Events kept in memory while the API is unreachable (default 1000); newer ones are dropped. */
  maxQueue?: number;
  /** Retries of a failed batch (default 5). */
  maxRetries?: number;
  /** Base of the exponential retry backoff in milliseconds (default 1000). */
  backoff?: number;
  /** Name of the URL parameter for QA overrides, e.g. "vekst_qa"; off when unset. */
  qaParam?: string;
  /** Client-side overrides: experiment key -> unit id -> variant key. */
  overrides?: Record<string, Record<string, string>>;
  /** Give bots the control and send nothing for them (default true). */
  botDetection?: boolean;
  /**
   * No-code build (`vekst-nocode.min.js`/`.mjs`) only: show the variants' `changes`, `css` and
   * `redirect` by itself on every page whose `url` and `path` an experiment targets, again on
   * elements that appear later or are re-rendered, and on SPA navigation (default false).
   * On a preview link (`?vekst_preview=<token>`) it shows that variant from
   * `/v1/sdk/preview` instead of the config, and the client sends no events.
   */
  autoApply?: boolean;
  /** The fetch to use (default the window's). */
  fetch?: typeof fetch;
  /** The window object (default globalThis); for tests. */
  global?: object;
}

export interface TrackOptions {
  /** Revenue in NOK for `purchase`; a finite number. */
  value?: number;
  /** A flat object of strings, finite numbers and booleans. */
  properties?: Attributes;
  /** Default: the client's unit id. */
  unitId?: string;
}

export interface Client {
  /**
   * The visitor's variant; synchronous, never throws, sends the first exposure.
   *
   * Segments build (`vekst-segments.min.js`/`.mjs`) only: the exposure carries, as
   * `attributes`, those the experiment names as `dimensions` (and nothing else) among
   * `attributes` and the ones the SDK knows by itself, without cookies or fingerprinting:
   * `device` ("mobile", "tablet", "desktop": User-Agent Client Hints, else the user agent),
   * `source` ("paid", "email", "social", "search", "referral", "direct": the page URL's
   * `utm_medium`/`utm_source`, else the referrer's host; absent when the referrer is the shop
   * itself) and `visitor_type` ("new", "returning": only with consent, for the anonymous id).
   * The attributes given here win over the known ones. The core build (`vekst.min.js`) sends
   * no attributes.
   */
  assign(experimentKey: string, unitId?: string | null, attributes?: Attributes | null): Assignment;
  /** Queue a conversion such as `purchase`; bad input is logged once and dropped. */
  track(name: string, options?: TrackOptions): void;
  /** Resolves to true once a config is loaded, false when `readyTimeout` passes first. */
  ready(): Promise<boolean>;
  /** Send the queued events now. */
  flush(): Promise<void>;
  /** Give or withdraw consent to keep the anonymous id; withdrawing deletes its cookies. */
  setConsent(given: boolean): void;
  /** The unit id used when none is passed, or null without one (no consent). */
  readonly unitId: string | null;
  /** Stop refreshing the config and send the queue (as a beacon). */
  close(): void;
}

/** Create a client; it starts loading the config at once and never throws. */
export declare function createClient(options?: ClientOptions): Client;
