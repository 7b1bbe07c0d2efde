// The staff page: who is on the way to this store, live. No framework and no build step: it is
// served by notify and works with nothing else reachable.
"use strict";

(() => {
  const TOKEN_KEY = "accueil.staffToken";
  const FRESH_MS = 2 * 60 * 1000; // an arrival older than this (a page reload) gets no sound
  const RENEW_MS = 60 * 60 * 1000; // a staff token lasts a shift: renewed once less than this is left
  const LANGUAGES = ["en", "fr"];
  const $ = (id) => document.getElementById(id);
  const alerts = new Map(); // alert_id -> the alert as the stream last gave it
  const texts = {}; // locale -> notify's catalogue, the page's part ("staff.") by its short key
  let lang = languageOf(navigator.language);
  let token = null;
  let me = null;
  let source = null;
  let lastId = null;
  let retry = null;
  let audio = null;

  function languageOf(tag) {
    const base = String(tag || "en").slice(0, 2).toLowerCase();
    return LANGUAGES.includes(base) ? base : "en";
  }

  // Both languages' texts, fetched once before the page first shows any: a staff member's own
  // language (known at sign-in) then needs no fetch. None (keys shown) if notify cannot be reached.
  async function loadTexts() {
    await Promise.all(
      LANGUAGES.map(async (code) => {
        try {
          const all = await (await fetch(`/i18n/${code}.json`)).json();
          texts[code] = Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith("staff.")).map(([k, v]) => [k.slice(6), v]));
        } catch {
          texts[code] = {};
        }
      }),
    );
  }

  // The page's text `key` in the current language, {name}s filled from `values`.
  function t(key, values = {}) {
    const text = texts[lang]?.[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }

  function translate() {
    document.documentElement.lang = lang;
    document.title = t("page_title");
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  }

  function notice(text) {
    $("notice").textContent = text || "";
  }

  function claimsOf(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part + "===".slice((part.length + 3) % 4)));
    } catch {
      return null;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401) {
      signOut(t("expired"));
      throw new Error(t("expired"));
    }
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      const failure = new Error(error.detail || response.statusText);
      failure.status = response.status;
      throw failure;
    }
    return response.status === 204 ? null : response.json();
  }

  // --- signing in ---

  async function signIn(candidate) {
    const claims = claimsOf(candidate);
    if (!claims || claims.role !== "staff" || !claims.sub || !claims.store) {
      $("signin-error").textContent = t("not_staff");
      return;
    }
    token = candidate;
    try {
      me = await api("GET", `/v1/staff/${encodeURIComponent(claims.sub)}`);
    } catch (error) {
      if (error.status !== 404) {
        $("signin-error").textContent = error.message;
        token = null;
        return;
      }
      me = { staff_id: claims.sub, store_id: claims.store, name: claims.sub, locale: "en", push: false };
    }
    localStorage.setItem(TOKEN_KEY, candidate);
    await renew();
    if (!token) return;
    lang = languageOf(me.locale);
    translate();
    $("store").textContent = `· ${me.store_id}`;
    $("who").textContent = me.name;
    $("signin").hidden = true;
    $("board").hidden = false;
    $("signout").hidden = false;
    setUpPush();
    render();
    connect();
  }

  // A token close to its expiry is traded for a fresh one while it is still valid (an expired one can
  // only be replaced by signing in again). A 401 here signs out, through api().
  async function renew() {
    const claims = token && claimsOf(token);
    if (!claims || !claims.exp || claims.exp * 1000 - Date.now() > RENEW_MS) return;
    try {
      const fresh = await api("POST", `/v1/staff/${encodeURIComponent(claims.sub)}/token`);
      token = fresh.token;
      localStorage.setItem(TOKEN_KEY, token);
    } catch {
      // Offline for a moment: the next check retries while the token lasts.
    }
  }

  function signOut(reason) {
    localStorage.removeItem(TOKEN_KEY);
    clearTimeout(retry);
    if (source) source.close();
    source = null;
    token = me = lastId = null;
    alerts.clear();
    $("board").hidden = $("signout").hidden = $("push").hidden = true;
    $("signin").hidden = false;
    $("store").textContent = $("who").textContent = "";
    $("signin-error").textContent = reason || "";
    setLive(false);
  }

  // --- the live stream ---

  function setLive(on, reconnecting) {
    const live = $("live");
    live.classList.toggle("on", on);
    live.textContent = on ? t("live") : reconnecting ? t("reconnecting") : t("offline");
  }

  async function connect() {
    clearTimeout(retry);
    if (source) source.close();
    source = null;
    if (!token) return;
    let ticket;
    try {
      ticket = await api("POST", `/v1/stores/${encodeURIComponent(me.store_id)}/alerts/stream-ticket`);
    } catch {
      if (!token) return;
      setLive(false, true);
      retry = setTimeout(connect, 3000);
      return;
    }
    // EventSource cannot send an Authorization header: a short-lived ticket in the URL opens the
    // stream. The browser reconnects by itself (sending Last-Event-ID) while the ticket is valid;
    // once it is not, the stream fails for good and is reopened here with a new one.
    const url = lastId === null ? ticket.url : `${ticket.url}&last_event_id=${encodeURIComponent(lastId)}`;
    const stream = new EventSource(url);
    source = stream;
    stream.onopen = () => setLive(true);
    stream.onerror = () => {
      if (source !== stream) return;
      setLive(false, true);
      if (stream.readyState === EventSource.CLOSED) retry = setTimeout(connect, 2000);
    };
    stream.addEventListener("alert", receive);
    stream.addEventListener("alert.updated", receive);
  }

  function receive(event) {
    if (event.lastEventId) lastId = event.lastEventId;
    const alert = JSON.parse(event.data);
    alerts.set(alert.alert_id, alert);
    const fresh = Date.now() - Date.parse(alert.created_at) < FRESH_MS;
    render();
    if (event.type === "alert" && alert.kind === "arrived" && alert.status !== "closed" && fresh) cue(alert);
  }

  // --- the board: one card per trip, its latest step ---

  function trips() {
    const byTrip = new Map();
    for (const alert of alerts.values()) {
      const list = byTrip.get(alert.trip_id) || [];
      list.push(alert);
      byTrip.set(alert.trip_id, list);
    }
    const shown = [];
    for (const [tripId, list] of byTrip) {
      if (list.every((a) => a.status === "closed")) {
        for (const a of list) alerts.delete(a.alert_id);
        continue;
      }
      list.sort((a, b) => a.alert_id - b.alert_id);
      const latest = list[list.length - 1];
      const acked = list.find((a) => a.acked_at);
      shown.push({ tripId, latest, acked });
    }
    const order = (t) => (t.latest.kind === "arrived" ? 0 : 1);
    const eta = (t) => Date.parse(t.latest.expected_at || t.latest.at);
    return shown.sort((a, b) => order(a) - order(b) || eta(a) - eta(b));
  }

  function countdown(alert) {
    if (alert.kind === "arrived") return t("arrived");
    if (!alert.expected_at) return "";
    const left = Math.round((Date.parse(alert.expected_at) - Date.now()) / 1000);
    if (left <= 0) return t("any_moment");
    return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  }

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function card({ tripId, latest, acked }) {
    const li = element("li", `card ${latest.kind}${acked ? " acked" : ""}`);
    li.dataset.trip = tripId;
    li.dataset.alert = latest.alert_id;
    const who = element("div");
    who.append(element("span", "name", latest.display_name || t("someone")));
    if (latest.order_ref) who.append(element("span", "ref", latest.order_ref));
    if (latest.bay) who.append(element("span", "bay", latest.bay));
    li.append(who, element("div", "eta", countdown(latest)), element("div", "text", latest.text));
    if (acked) {
      li.append(element("p", "acked", t("on_the_way", { name: acked.acked_by_name || t("someone") })));
    } else {
      const button = element("button", "ack", t("ack"));
      button.type = "button";
      button.addEventListener("click", () => ack(latest.alert_id, button));
      li.append(button);
    }
    return li;
  }

  function render() {
    const list = $("arrivals");
    const shown = trips();
    list.replaceChildren(...shown.map(card));
    $("empty").hidden = shown.length > 0;
  }

  function tick() {
    for (const li of document.querySelectorAll(".card.approaching")) {
      const alert = alerts.get(Number(li.dataset.alert));
      if (alert) li.querySelector(".eta").textContent = countdown(alert);
    }
  }

  async function ack(alertId, button) {
    button.disabled = true;
    try {
      const alert = await api("POST", `/v1/alerts/${alertId}/ack`);
      alerts.set(alert.alert_id, alert);
      render();
    } catch (error) {
      button.disabled = false;
      notice(`${t("ack_failed")} ${error.message}`);
    }
  }

  // --- the cue on arrival: a flash, the title, a beep (Web Audio: no sound file) ---

  function unlockSound() {
    try {
      audio = audio || new AudioContext();
      if (audio.state === "suspended") audio.resume();
    } catch {
      audio = null;
    }
    $("sound").hidden = !audio || audio.state === "running";
  }

  function beep() {
    if (!audio || audio.state !== "running") {
      $("sound").hidden = false;
      return;
    }
    const start = audio.currentTime;
    [880, 1320, 880].forEach((frequency, i) => {
      const at = start + i * 0.22;
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.5, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
      tone.connect(gain).connect(audio.destination);
      tone.start(at);
      tone.stop(at + 0.21);
    });
  }

  function cue(alert) {
    const li = document.querySelector(`.card[data-trip="${CSS.escape(alert.trip_id)}"]`);
    if (li) li.classList.add("flash");
    document.body.dataset.cues = String(Number(document.body.dataset.cues || 0) + 1);
    document.title = `● ${alert.display_name || t("someone")} · accueil`;
    setTimeout(() => (document.title = t("page_title")), 10000);
    beep();
  }

  // --- push on this device (the service worker shows what arrives while the page is closed) ---

  function setUpPush() {
    const button = $("push");
    const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
    button.hidden = !supported;
    if (!supported) return;
    navigator.serviceWorker.register("/staff-sw.js", { scope: "/staff" }).then(
      () => (document.body.dataset.worker = "registered"),
      (error) => notice(`${t("push_failed")} ${error.message}`),
    );
    button.textContent = me.push ? t("push_on") : t("push_enable");
  }

  function keyBytes(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  async function enablePush() {
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        notice(t("push_denied"));
        return;
      }
      const registration = await navigator.serviceWorker.register("/staff-sw.js", { scope: "/staff" });
      const { public_key: key } = await (await fetch("/v1/vapid-public-key")).json();
      let subscription = await registration.pushManager.getSubscription();
      if (!subscription) {
        subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
      }
      await api("PUT", `/v1/staff/${encodeURIComponent(me.staff_id)}/push-subscription`, subscription.toJSON());
      me.push = true;
      $("push").textContent = t("push_on");
      notice("");
    } catch (error) {
      notice(`${t("push_failed")} ${error.message}`);
    }
  }

  // --- wiring ---

  document.addEventListener("DOMContentLoaded", async () => {
    await loadTexts();
    translate();
    document.addEventListener("pointerdown", unlockSound);
    document.addEventListener("keydown", unlockSound);
    $("signin").addEventListener("submit", (event) => {
      event.preventDefault();
      $("signin-error").textContent = "";
      signIn($("token").value.trim());
    });
    $("signout").addEventListener("click", () => signOut());
    $("push").addEventListener("click", enablePush);
    setInterval(tick, 1000);
    setInterval(renew, 60 * 1000);
    const saved = localStorage.getItem(TOKEN_KEY);
    if (saved) {
      $("sound").hidden = false;
      signIn(saved);
    } else {
      $("signin").hidden = false;
    }
  });
})();
