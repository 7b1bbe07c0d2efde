// The demo store's shopper page, built only on the SDK: consent in the device's language (or the one
// chosen in the header), an order for pickup, "I'm on my way", and the drive in, positions sent as the
// phone moves. Its texts are notify's catalogue's ("shop." and "sdk."), fetched through the SDK.
// A visit creates nothing on the server: the device is registered when the shopper first saves a
// choice, and what needs a device (the products, an order, push) waits for that save.
import { Accueil } from "/sdk/accueil.js";

const ORDER_KEY = "accueil.shop.order";
const TRIP_KEY = "accueil.shop.trip";
const ENDED = new Set(["completed", "canceled", "expired"]);
const $ = (id) => document.getElementById(id);
const storeId = new URLSearchParams(location.search).get("store") || "demo-rivoli";
let sdk;
let texts = {}; // locale -> the catalogue's texts, both fetched before the first render
let notice = null;
let followTimer = null;

// The page's text `key` ("shop.<key>"), {name}s filled; `otherwise` when the catalogue has no such key
// (a status or purpose newer than this page).
function t(key, values = {}, otherwise = key) {
  const text = texts[sdk?.language]?.[`shop.${key}`];
  if (text === undefined) return otherwise;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// What the SDK's refusal means to a person ("sdk.<code>", its {detail} the refusal's own words), else
// the refusal's own words.
function refusal(error) {
  const text = texts[sdk?.language]?.[`sdk.${error.code}`];
  return text === undefined ? error.message : text.replace("{detail}", error.message);
}

function fail(error) {
  $("error").textContent = error ? `${refusal(error)}${error.field ? ` (${error.field})` : ""}` : "";
}

function element(tag, text) {
  const el = document.createElement(tag);
  if (text !== undefined) el.textContent = text;
  return el;
}

function showPings(status) {
  const body = document.body.dataset;
  body.pingsAccepted = status.accepted;
  body.pingsQueued = status.queued;
  body.rateLimited = status.rateLimited;
  let text = t("pings", status);
  if (status.waitMs > 0) text += ` · ${t("waiting", { s: Math.ceil(status.waitMs / 1000) })}`;
  else if (!navigator.onLine && status.queued) text += ` · ${t("offline")}`;
  $("pings").textContent = text;
}

// --- consent: the purposes as notify's privacy notice states them, in the device's language ---

// The notice is public; the answers on record exist only once the device does (every purpose is no
// until then). `ticked`: what the shopper ticked and has not saved yet, kept (a language switch).
async function showConsent(ticked = null) {
  const [privacy, current] = await Promise.all([
    sdk.privacy(),
    sdk.device ? sdk.consents() : { purposes: {}, updated_at: null },
  ]);
  notice = privacy;
  const items = Object.entries(privacy.purposes).map(([purpose, what]) => {
    const box = element("input");
    box.type = "checkbox";
    box.name = purpose;
    box.checked = ticked && purpose in ticked ? ticked[purpose] : current.purposes[purpose] === true;
    const label = element("label");
    const text = element("span");
    text.append(element("strong", t(`purposes.${purpose}`, {}, purpose)), ` — ${what}`);
    label.append(box, text);
    const li = element("li");
    li.append(label);
    return li;
  });
  $("purposes").replaceChildren(...items);
  $("never").textContent = privacy.never;
  if (current.updated_at) $("consent-status").textContent = t("saved");
  if (current.purposes.location) sdk.watchPosition({ onError: fail });
}

async function saveConsent() {
  fail(null);
  const purposes = {};
  const shown = [];
  for (const box of $("purposes").querySelectorAll("input[type=checkbox]")) {
    purposes[box.name] = box.checked;
    shown.push(`${box.name}: ${notice.purposes[box.name]}`);
  }
  shown.push(notice.never);
  $("save-consent").disabled = true; // a second click while the first registers would register twice
  try {
    const first = !sdk.device;
    if (first) await sdk.register(); // kept by the SDK: a failed save, retried, registers no second device
    await sdk.setConsents(purposes, { shown: shown.join("\n") });
    $("consent-status").textContent = t("saved");
    document.body.dataset.consent = "saved";
    if (purposes.location) sdk.watchPosition({ onError: fail });
    else if (!localStorage.getItem(TRIP_KEY)) sdk.stopWatching();
    if (first) await withDevice();
    else await showMyData(); // the new answer, with its receipt
  } catch (error) {
    fail(error);
  } finally {
    $("save-consent").disabled = false;
  }
}

// --- push ---

async function enablePush() {
  $("push-status").textContent = "";
  if (!sdk.device) {
    $("push-status").textContent = t("save_first");
    return;
  }
  try {
    await sdk.enablePush();
    $("push-status").textContent = t("push_on");
    document.body.dataset.push = "on";
  } catch (error) {
    // Surfaced, never swallowed: the page works on without push.
    $("push-status").textContent = refusal(error);
    document.body.dataset.push = error.code;
  }
}

// --- order and trip ---

async function showProducts() {
  const products = await sdk.products(storeId);
  const items = products.map((product) => {
    const button = element("button", t("order"));
    button.type = "button";
    button.dataset.sku = product.sku;
    button.addEventListener("click", () => order(product.sku, button));
    const li = element("li");
    li.append(element("span", product.name), element("span", t("available", { n: product.available })), button);
    return li;
  });
  $("products").replaceChildren(...(items.length ? items : [element("li", t("none_in_stock"))]));
}

function showOrder(order) {
  const status = t(`order_statuses.${order.status}`, {}, order.status);
  $("order-status").textContent = t("ordered", { ref: order.order_id.slice(-4).toUpperCase(), status });
  document.body.dataset.order = order.status;
  $("on-my-way").disabled = Boolean(localStorage.getItem(TRIP_KEY)) || !["reserved", "ready"].includes(order.status);
}

async function order(sku, button) {
  fail(null);
  button.disabled = true;
  try {
    const placed = await sdk.placeOrder(storeId, [{ sku, qty: 1 }], $("name").value.trim());
    localStorage.setItem(ORDER_KEY, placed.order_id);
    showOrder(placed);
    await showProducts(); // what is left in stock
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
}

async function onMyWay() {
  fail(null);
  $("on-my-way").disabled = true;
  try {
    const trip = await sdk.startTrip(localStorage.getItem(ORDER_KEY), storeId, "car");
    localStorage.setItem(TRIP_KEY, trip.trip_id);
    showTrip(trip);
  } catch (error) {
    $("on-my-way").disabled = false;
    fail(error);
  }
}

function showTrip(trip) {
  document.body.dataset.trip = trip.status;
  let text = t(`trip.${trip.status}`, {}, trip.status);
  if (trip.eta_s != null && trip.distance_m != null && !["arrived", ...ENDED].includes(trip.status)) {
    text += ` · ${t("eta", { m: Math.max(1, Math.round(trip.eta_s / 60)), d: Math.round(trip.distance_m) })}`;
  }
  $("trip-status").textContent = text;
  if (ENDED.has(trip.status)) {
    localStorage.removeItem(TRIP_KEY);
    sdk.stopWatching();
  }
}

// Staff prepare the order and geo follows the trip: the page asks every few seconds.
async function follow() {
  const orderId = localStorage.getItem(ORDER_KEY);
  if (orderId) showOrder(await sdk.order(orderId).catch(() => ({ order_id: orderId, status: "unknown" })));
  const tripId = localStorage.getItem(TRIP_KEY);
  if (!tripId) return;
  try {
    showTrip(await sdk.trip(tripId));
  } catch (error) {
    if (error.status === 404) localStorage.removeItem(TRIP_KEY);
  }
}

// --- my data: the history with its receipts, the messages, the export, erasure ---

function when(iso) {
  return new Date(iso).toLocaleString(sdk.language, { dateStyle: "medium", timeStyle: "short" });
}

function save(name, blob) {
  const link = element("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

async function showMyData() {
  $("my-data").hidden = false;
  const [consents, { messages }] = await Promise.all([sdk.consents(), sdk.messages()]);
  $("history").replaceChildren(
    ...consents.history.map((entry) => {
      const granted = Object.entries(entry.purposes).filter(([, yes]) => yes).map(([p]) => t(`purposes.${p}`, {}, p));
      return element("li", `${when(entry.at)} · ${granted.join(", ") || t("nothing_chosen")}`);
    }),
  );
  $("download-receipts").onclick = () => {
    const receipts = consents.history.map((entry) => ({ at: entry.at, receipt: entry.receipt }));
    save("consent-receipts.json", new Blob([JSON.stringify(receipts, null, 2)], { type: "application/json" }));
    $("my-data-status").textContent = t("downloaded");
  };
  const items = messages.map((message) => {
    const item = element("li", `${when(message.decided_at)} · ${message.title || message.purpose}`);
    item.id = `message-${message.id}`; // where a notification's "Why?" opens the page
    const why = message.why && (message.why[sdk.language] || message.why.en);
    if (why) item.append(element("span", why));
    if (why) item.lastChild.className = "why hint";
    return item;
  });
  $("messages").replaceChildren(...(items.length ? items : [element("li", t("no_messages"))]));
  showLinkedMessage();
}

// The message the page was opened at (#message-<id>, from a notification's "Why?"): it stands out
// and is scrolled into view, its why under it.
function showLinkedMessage() {
  for (const item of document.querySelectorAll("#messages li[aria-current]")) item.removeAttribute("aria-current");
  const linked = location.hash.startsWith("#message-") && document.getElementById(location.hash.slice(1));
  if (!linked) return;
  linked.setAttribute("aria-current", "true");
  linked.scrollIntoView({ block: "center" });
}

async function downloadExport() {
  try {
    save("my-data.json", await sdk.exportData());
    $("my-data-status").textContent = t("downloaded");
  } catch (error) {
    fail(error);
  }
}

async function eraseEverything() {
  $("erase-dialog").close();
  try {
    await sdk.erase();
  } catch (error) {
    return fail(error);
  }
  localStorage.removeItem(ORDER_KEY);
  localStorage.removeItem(TRIP_KEY);
  $("my-data").hidden = true;
  $("device").textContent = "";
  delete document.body.dataset.device;
  $("consent-status").textContent = t("erased");
  document.body.dataset.erased = "yes";
  for (const box of document.querySelectorAll("#purposes input[type=checkbox]")) box.checked = false;
  $("products").replaceChildren(element("li", t("save_first")));
}

// --- wiring ---

// What the page does once the device exists: on load if an earlier visit saved a choice, else after
// the first save.
async function withDevice() {
  $("device").textContent = t("your_device"); // never the raw id: it means nothing to a person
  document.body.dataset.device = sdk.device.device_id;
  await Promise.all([showProducts(), showMyData()]);
  sdk.registerWorker().then(
    () => (document.body.dataset.worker = "registered"),
    (error) => ($("push-status").textContent = refusal(error)),
  );
  if (localStorage.getItem(TRIP_KEY)) sdk.watchPosition({ onError: fail });
  await follow();
  followTimer ||= setInterval(follow, 3000);
}

// The page's own texts (every element with data-t), in the language the SDK speaks.
function translatePage() {
  document.documentElement.lang = sdk.language;
  document.title = t("page_title");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("privacy-link").href = sdk.privacyPage;
  $("language").value = sdk.language;
}

// Another language: the SDK speaks it from now on (kept for the next visit), and everything shown is
// said again in it: the notice's purposes and the products' names come from the services in it.
async function switchLanguage(language) {
  sdk.language = language;
  translatePage();
  showPings(sdk.pings.status());
  const ticked = Object.fromEntries([...$("purposes").querySelectorAll("input[type=checkbox]")].map((box) => [box.name, box.checked]));
  await showConsent(ticked);
  if (sdk.device) {
    $("device").textContent = t("your_device");
    await Promise.all([showProducts(), showMyData(), follow()]);
  } else $("products").replaceChildren(element("li", t("save_first")));
}

async function start() {
  const config = await (await fetch("/shop/config.json")).json();
  sdk = new Accueil({ geo: config.geo, inventory: config.inventory, flushDelayMs: 2000, onPings: showPings });
  texts = Object.fromEntries(await Promise.all(Accueil.LANGUAGES.map(async (code) => [code, await sdk.texts(code)])));
  for (const code of Accueil.LANGUAGES) {
    const option = element("option", texts[code]["common.language"] || code);
    option.value = code;
    option.lang = code;
    $("language").append(option);
  }
  translatePage();
  $("store").textContent = `· ${storeId}`;
  showPings(sdk.pings.status());
  $("language").addEventListener("change", () => switchLanguage($("language").value).catch(fail));
  $("save-consent").addEventListener("click", saveConsent);
  $("enable-push").addEventListener("click", enablePush);
  $("on-my-way").addEventListener("click", onMyWay);
  $("download-export").addEventListener("click", downloadExport);
  $("erase").addEventListener("click", () => $("erase-dialog").showModal());
  $("erase-cancel").addEventListener("click", () => $("erase-dialog").close());
  $("erase-confirm").addEventListener("click", eraseEverything);
  addEventListener("offline", () => showPings(sdk.pings.status()));
  addEventListener("hashchange", showLinkedMessage);
  await sdk.refreshToken(); // a day-old token is traded for a fresh one; a device gone is forgotten
  await showConsent();
  if (sdk.device) await withDevice();
  else $("products").replaceChildren(element("li", t("save_first")));
  setInterval(() => showPings(sdk.pings.status()), 1000);
  document.body.dataset.ready = "yes";
}

start().catch(fail);
