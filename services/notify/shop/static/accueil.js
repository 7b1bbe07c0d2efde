// accueil's shopper SDK: a shop's web page registers the device, asks for consent in the device's
// language, subscribes to Web Push, sends the phone's positions and starts pickup trips.
// A plain ES module (no build step, no dependency): import { Accueil } from "/sdk/accueil.js".
//
// Each call goes to the service that owns it: notify (device, consent, push), geo (pings, trips) and
// inventory (orders). Their base URLs default to the page's own origin; where they are elsewhere
// (their own hosts behind the Ingress, their own ports locally), pass them, and list the page's origin
// in those services' ACCUEIL_CORS_ORIGINS.

const DEVICE_KEY = "accueil.device";
const LANGUAGE_KEY = "accueil.language"; // the language a person chose on the page, over the browser's
const QUEUE_KEY = "accueil.pings";
const MAX_BATCH = 500; // geo takes at most this many fixes a request
const MAX_QUEUED = 5000; // offline for hours: the oldest fixes go first (geo refuses stale ones anyway)
const MAX_BACKOFF_MS = 60_000;
const WORKER_DB = "accueil";

/** A refusal with the reason a page can act on: `code` is the API's `error` (or push_unsupported,
 * push_denied, push_failed, network), `field` the input it names, `retryAfterMs` after a 429. */
export class AccueilError extends Error {
  constructor(code, message, { status = 0, field = null, retryAfterMs = null } = {}) {
    super(message);
    this.name = "AccueilError";
    this.code = code;
    this.status = status;
    this.field = field;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Retry-After as milliseconds from `now`: delta-seconds or an HTTP date; null if absent or unreadable. */
export function retryAfterMs(value, now = Date.now()) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A Geolocation position as geo's ping: speed and heading only when the device knows them. */
export function pingOf(position) {
  const { latitude, longitude, accuracy, speed, heading } = position.coords;
  const ping = {
    lat: latitude,
    lng: longitude,
    accuracy_m: Math.min(Math.max(accuracy || 0, 0), 100_000),
    ts: new Date(position.timestamp || Date.now()).toISOString(),
  };
  if (Number.isFinite(speed) && speed >= 0) ping.speed_mps = Math.min(speed, 1000);
  if (Number.isFinite(heading) && heading >= 0 && heading <= 360) ping.heading = heading;
  return ping;
}

/**
 * The positions waiting to reach geo: kept in storage (offline, reloads), sent oldest first in
 * batches. A 429 or 503 is waited out for its Retry-After (kept across reloads too), a network error
 * or a 5xx with a growing backoff; a batch geo can never take (400, 413, 422) is dropped rather than
 * blocking the queue for ever; a refused token (401, 403) stops sending and empties it.
 * `send(batch)` returns the fetch Response.
 */
export class PingQueue {
  constructor({ storage, send, delayMs = 5000, onChange = () => {}, key = QUEUE_KEY }) {
    this.storage = storage;
    this.send = send;
    this.delayMs = delayMs;
    this.onChange = onChange;
    this.key = key;
    this.timer = null;
    this.sending = false;
    this.failures = 0;
    this.stats = { accepted: 0, rejected: 0, dropped: 0, rateLimited: 0, lastError: null };
  }

  state() {
    try {
      const saved = JSON.parse(this.storage.getItem(this.key));
      if (saved && Array.isArray(saved.pings)) return { pings: saved.pings, notBefore: saved.notBefore || 0 };
    } catch {
      // unreadable: start again
    }
    return { pings: [], notBefore: 0 };
  }

  save(state) {
    this.storage.setItem(this.key, JSON.stringify(state));
    this.onChange(this.status());
  }

  get length() {
    return this.state().pings.length;
  }

  status() {
    const { pings, notBefore } = this.state();
    return { queued: pings.length, waitMs: Math.max(0, notBefore - Date.now()), ...this.stats };
  }

  add(ping) {
    const state = this.state();
    state.pings.push(ping);
    if (state.pings.length > MAX_QUEUED) {
      this.stats.dropped += state.pings.length - MAX_QUEUED;
      state.pings.splice(0, state.pings.length - MAX_QUEUED);
    }
    this.save(state);
    this.schedule(this.delayMs);
  }

  /** Forget every queued position (the device was erased: they are its data too). */
  clear() {
    clearTimeout(this.timer);
    this.timer = null;
    this.storage.removeItem(this.key);
    this.onChange(this.status());
  }

  /** Send soon, but never before a Retry-After runs out; an earlier timer stands. */
  schedule(ms) {
    const wait = Math.max(ms, this.state().notBefore - Date.now());
    if (this.timer !== null && this.timerAt <= Date.now() + wait) return;
    clearTimeout(this.timer);
    this.timerAt = Date.now() + wait;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }

  backoff() {
    this.failures += 1;
    const ms = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
    this.schedule(ms * (0.75 + Math.random() / 2));
  }

  async flush() {
    if (this.sending) return;
    const before = this.state();
    if (before.pings.length === 0) return;
    if (Date.now() < before.notBefore) return this.schedule(0);
    const batch = before.pings.slice(0, MAX_BATCH);
    this.sending = true;
    let response;
    try {
      response = await this.send(batch);
    } catch (error) {
      this.stats.lastError = `network: ${error.message}`;
      this.onChange(this.status());
      return this.backoff();
    } finally {
      this.sending = false;
    }
    const state = this.state(); // fixes added while the batch was out stay queued behind it
    if (response.ok) {
      const answer = await response.json().catch(() => ({}));
      this.stats.accepted += answer.accepted || 0;
      this.stats.rejected += (answer.rejected || []).length; // stale or implausible: never better later
      this.stats.lastError = null;
      this.failures = 0;
      state.pings.splice(0, batch.length);
      this.save(state);
      if (state.pings.length) this.schedule(0);
      return;
    }
    if (response.status === 429 || response.status === 503) {
      const wait = retryAfterMs(response.headers.get("Retry-After"));
      if (response.status === 429) this.stats.rateLimited += 1;
      this.stats.lastError = `${response.status}`;
      if (wait === null) return this.backoff();
      state.notBefore = Date.now() + wait;
      this.save(state);
      return this.schedule(wait);
    }
    if (response.status >= 500) {
      this.stats.lastError = `${response.status}`;
      this.onChange(this.status());
      return this.backoff();
    }
    if (response.status === 401 || response.status === 403) {
      this.stats.lastError = `${response.status}: the device's token is refused`;
      this.stats.dropped += state.pings.length;
      return this.save({ pings: [], notBefore: 0 });
    }
    this.stats.lastError = `${response.status}`;
    this.stats.dropped += batch.length;
    state.pings.splice(0, batch.length);
    this.save(state);
    if (state.pings.length) this.schedule(0);
  }
}

function trimmed(url) {
  return (url || location.origin).replace(/\/+$/, "");
}

function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64 + "===".slice((base64.length + 3) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function digest(text) {
  const bytes = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(bytes).slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What the service worker needs to report engagement (it cannot read localStorage): IndexedDB. */
function shareWithWorker(record) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(WORKER_DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore("worker");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction("worker", "readwrite");
      if (record) tx.objectStore("worker").put(record, "device");
      else tx.objectStore("worker").delete("device");
      tx.oncomplete = () => {
        open.result.close();
        resolve();
      };
      tx.onerror = () => reject(tx.error);
    };
  });
}

export class Accueil {
  /** The languages notify writes its texts in. */
  static LANGUAGES = ["en", "fr"];

  /**
   * options: { notify, geo, inventory } base URLs (default: the page's origin); storage (default
   * localStorage); flushDelayMs: how long fixes gather before a batch goes (default 5 s);
   * onPings(status): called whenever the queue changes; workerUrl: the service worker's address.
   */
  constructor(options = {}) {
    this.urls = { notify: trimmed(options.notify), geo: trimmed(options.geo), inventory: trimmed(options.inventory) };
    this.storage = options.storage || localStorage;
    this.workerUrl = options.workerUrl || `${this.urls.notify}/sdk/accueil-sw.js`;
    this.pings = new PingQueue({
      storage: this.storage,
      delayMs: options.flushDelayMs ?? 5000,
      onChange: options.onPings,
      send: (batch) => this.fetch("POST", "geo", "/v1/pings", { pings: batch }),
    });
    this.watch = null;
    addEventListener("online", () => this.pings.flush());
    this.pings.schedule(0); // what an earlier visit left queued
  }

  get device() {
    try {
      return JSON.parse(this.storage.getItem(DEVICE_KEY));
    } catch {
      return null;
    }
  }

  /** The privacy notice as a page a person reads, in the device's language: link it from the app. */
  get privacyPage() {
    return `${this.urls.notify}/privacy?lang=${this.language}`;
  }

  /** The device's language for texts: French or English, as notify writes them; the one chosen
   * (`sdk.language = "fr"`, kept in storage) over the browser's. */
  get language() {
    const chosen = this.storage.getItem(LANGUAGE_KEY);
    if (Accueil.LANGUAGES.includes(chosen)) return chosen;
    return (navigator.language || "en").slice(0, 2).toLowerCase() === "fr" ? "fr" : "en";
  }

  set language(language) {
    if (!Accueil.LANGUAGES.includes(language)) throw new AccueilError("unknown_language", `no texts in ${language}`, { field: "language" });
    this.storage.setItem(LANGUAGE_KEY, language);
  }

  /** Every text notify writes for people in `language` (default: the device's), by its full key: the
   * shop page's ("shop."), what the SDK's refusals mean to a person ("sdk.<code>"), and the rest of
   * notify's catalogue. Fetched once per language. */
  texts(language = this.language) {
    this.catalogue ||= {};
    this.catalogue[language] ||= this.call("GET", "notify", `/i18n/${language}.json`, undefined, { auth: false }).catch((error) => {
      delete this.catalogue[language]; // tried again next time
      throw error;
    });
    return this.catalogue[language];
  }

  async fetch(method, service, path, body, { auth = true, headers = {} } = {}) {
    const sent = { ...headers };
    if (auth) {
      if (!this.device) throw new AccueilError("no_device", "register() the device first");
      sent.Authorization = `Bearer ${this.device.token}`;
    }
    if (body !== undefined) sent["Content-Type"] = "application/json";
    return fetch(`${this.urls[service]}${path}`, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** A call whose refusal becomes an AccueilError naming the reason and the field. */
  async call(method, service, path, body, options) {
    let response;
    try {
      response = await this.fetch(method, service, path, body, options);
    } catch (error) {
      if (error instanceof AccueilError) throw error;
      throw new AccueilError("network", `${service} cannot be reached: ${error.message}`);
    }
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      throw new AccueilError(error.error || `http_${response.status}`, error.detail || response.statusText, {
        status: response.status,
        field: error.field || null,
        retryAfterMs: retryAfterMs(response.headers.get("Retry-After")),
      });
    }
    return response.status === 204 ? null : response.json();
  }

  /** The device, registered once and kept in storage: { device_id, token, expires_at, obtained_at }. Call it when the person
   * first saves a choice, not on load: a visit alone should leave nothing on the server. */
  async register() {
    if (this.device) return this.device;
    const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const tag = this.storage.getItem(LANGUAGE_KEY) || navigator.language; // the language chosen on the page first
    const locale = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(tag) ? tag : "en";
    const device = await this.call("POST", "notify", "/v1/devices", { platform: "web", locale, timezone }, { auth: false });
    return this.keep(device);
  }

  /** The device as notify answered it ({ device_id, token, expires_at }), kept with when it was obtained. */
  keep(device) {
    const kept = { ...device, obtained_at: new Date().toISOString() };
    this.storage.setItem(DEVICE_KEY, JSON.stringify(kept));
    return kept;
  }

  /**
   * Trade the device's token for a fresh one once it is `olderThanMs` old (default a day): a token
   * expires (`expires_at`), and a phone in use should never find it has. notify refuses the old token
   * everywhere within seconds. A token refused (the device erased, its token expired or already
   * traded by another tab that kept nothing) makes the SDK forget the device: the next `register()`
   * makes a new one. Returns the device, or null when there is none.
   */
  async refreshToken({ olderThanMs = 86_400_000 } = {}) {
    const device = this.device;
    if (!device) return null;
    const obtained = device.obtained_at ? Date.parse(device.obtained_at) : 0;
    if (Date.now() - obtained < olderThanMs) return device;
    let response;
    try {
      response = await this.fetch("POST", "notify", `/v1/devices/${encodeURIComponent(device.device_id)}/token`);
    } catch {
      return device; // offline: the next start tries again
    }
    if (response.status === 401 || response.status === 404) {
      if (this.device && this.device.token !== device.token) return this.device; // another tab traded it first
      this.storage.removeItem(DEVICE_KEY);
      return null;
    }
    if (!response.ok) return device;
    const fresh = this.keep(await response.json());
    await shareWithWorker({ ...fresh, notify: this.urls.notify, page: location.href }); // it reports with the token
    return fresh;
  }

  /** The messages sent to this device, newest first, as notify logged them. */
  messages() {
    return this.call("GET", "notify", `/v1/devices/${encodeURIComponent(this.device.device_id)}/messages`);
  }

  /** Everything the three services hold about the device, as one JSON document (a Blob, to save). */
  async exportData() {
    const response = await this.fetch("GET", "notify", `/v1/devices/${encodeURIComponent(this.device.device_id)}/export`);
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      throw new AccueilError(error.error || `http_${response.status}`, error.detail || response.statusText, {
        status: response.status,
      });
    }
    return response.blob();
  }

  /**
   * Erase the device everywhere (notify, geo, inventory). Its token stops working at once; the SDK
   * forgets the device, its queued positions and what the service worker knew. Returns the erasure
   * (its `status_url` follows it until every service has confirmed).
   */
  async erase() {
    const erasure = await this.call("DELETE", "notify", `/v1/devices/${encodeURIComponent(this.device.device_id)}`);
    this.stopWatching();
    this.pings.clear();
    this.storage.removeItem(DEVICE_KEY);
    await shareWithWorker(null).catch(() => {});
    return erasure;
  }

  /** The privacy notice in the device's language: purposes (id -> what it is for), what is kept. */
  privacy() {
    return this.call("GET", "notify", `/v1/privacy?lang=${this.language}`, undefined, { auth: false });
  }

  consents() {
    return this.call("GET", "notify", `/v1/devices/${encodeURIComponent(this.device.device_id)}/consents`);
  }

  /**
   * Record the person's answers ({ location, pickup_updates, offers, product_tips }: booleans, each
   * optional: one left out keeps its current answer, and one never given is no) with what they were
   * shown. Without a policyVersion, the version is a digest of that text: a changed notice is a new one.
   */
  async setConsents(purposes, { shown, policyVersion } = {}) {
    const version = policyVersion || `notice-${await digest(shown || "")}`;
    const body = { policy_version: version, purposes, ...(shown ? { shown: shown.slice(0, 5000) } : {}) };
    return this.call("PUT", "notify", `/v1/devices/${encodeURIComponent(this.device.device_id)}/consents`, body);
  }

  /** The service worker that shows pushes and reports them; it learns the device's token through IndexedDB. */
  async registerWorker() {
    if (!("serviceWorker" in navigator)) throw new AccueilError("push_unsupported", "this browser has no service workers");
    const registration = await navigator.serviceWorker.register(this.workerUrl);
    await shareWithWorker({ ...this.device, notify: this.urls.notify, page: location.href });
    return registration;
  }

  /** Ask for notifications, subscribe with notify's VAPID key and hand the subscription to notify. */
  async enablePush() {
    if (!("PushManager" in window) || !("Notification" in window)) {
      throw new AccueilError("push_unsupported", "this browser cannot receive push notifications");
    }
    const registration = await this.registerWorker();
    if ((await Notification.requestPermission()) !== "granted") {
      throw new AccueilError("push_denied", "notifications are blocked for this page");
    }
    const { public_key: key } = await this.call("GET", "notify", "/v1/vapid-public-key", undefined, { auth: false });
    let subscription;
    try {
      subscription =
        (await registration.pushManager.getSubscription()) ||
        (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
    } catch (error) {
      throw new AccueilError("push_failed", `the browser could not subscribe: ${error.message}`);
    }
    const path = `/v1/devices/${encodeURIComponent(this.device.device_id)}/push-subscription`;
    await this.call("PUT", "notify", path, subscription.toJSON());
    return subscription;
  }

  /** Follow the phone's position (Geolocation API) into the ping queue; stop() ends it. */
  watchPosition({ onError = () => {} } = {}) {
    if (this.watch !== null) return;
    if (!("geolocation" in navigator)) throw new AccueilError("geolocation_unsupported", "no Geolocation API");
    this.watch = navigator.geolocation.watchPosition(
      (position) => this.pings.add(pingOf(position)),
      (error) => onError(new AccueilError("geolocation", error.message)),
      { enableHighAccuracy: true, maximumAge: 0 },
    );
  }

  stopWatching() {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    this.watch = null;
  }

  /** In-stock products of a store: [{ sku, name, available }]. */
  async products(storeId) {
    const { items } = await this.call("GET", "inventory", `/v1/stores/${encodeURIComponent(storeId)}/stock`);
    const inStock = items.filter((item) => item.available > 0);
    const names = await Promise.all(
      inStock.map((item) => this.call("GET", "inventory", `/v1/products/${encodeURIComponent(item.sku)}`)),
    );
    return inStock.map((item, i) => ({ sku: item.sku, name: names[i].names?.[this.language] || names[i].name, available: item.available }));
  }

  /** Reserve every line or none (lines: [{ sku, qty }]); a retry of this call never orders twice. */
  placeOrder(storeId, lines, displayName) {
    const body = { store_id: storeId, lines, ...(displayName ? { display_name: displayName } : {}) };
    return this.call("POST", "inventory", "/v1/orders", body, { headers: { "Idempotency-Key": crypto.randomUUID() } });
  }

  order(orderId) {
    return this.call("GET", "inventory", `/v1/orders/${encodeURIComponent(orderId)}`);
  }

  /** "I'm on my way": geo follows the trip (even without the location consent) and tells the store. */
  async startTrip(orderId, storeId, mode = "car") {
    const trip = await this.call("POST", "geo", "/v1/trips", { order_id: orderId, store_id: storeId, mode });
    this.watchPosition();
    return trip;
  }

  trip(tripId) {
    return this.call("GET", "geo", `/v1/trips/${encodeURIComponent(tripId)}`);
  }
}
