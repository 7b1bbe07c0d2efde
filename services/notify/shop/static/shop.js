// The demo store's shopper page, built only on the SDK: consent in the device's language, an order
// for pickup, "I'm on my way", and the drive in, positions sent as the phone moves.
// A visit creates nothing on the server: the device is registered when the shopper first saves a
// choice, and what needs a device (the products, an order, push) waits for that save.
import { Accueil } from "/sdk/accueil.js";

const ORDER_KEY = "accueil.shop.order";
const TRIP_KEY = "accueil.shop.trip";
const ENDED = new Set(["completed", "canceled", "expired"]);
const WORDS = {
  en: {
    consent_title: "Your choices", save: "Save my choices", saved: "Saved",
    push_enable: "Get notifications on this device", push_on: "Notifications are on",
    order_title: "Order for pickup", name_label: "Your name for the staff", order: "Order",
    ordered: "Order {ref}: {status}", none_in_stock: "Nothing in stock right now.",
    trip_title: "Pickup", on_my_way: "I'm on my way", available: "{n} in stock",
    pings: "{accepted} positions sent, {queued} waiting", waiting: "waiting {s} s (too many at once)",
    offline: "offline: kept for later",
    save_first: "Save your choices first: then you can order and get notifications.",
    privacy_link: "How your data is used",
    your_device: "Your choices are kept for this device",
    my_data_title: "My data", history_title: "My choices over time", messages_title: "Messages for this device",
    download_receipts: "Download my consent receipts", download_export: "Download all my data",
    erase: "Erase everything", erase_question: "Erase everything about this device, everywhere? This cannot be undone.",
    erase_cancel: "Keep my data", erase_confirm: "Erase everything now",
    erased: "Erased: nothing about this device is kept any more.", nothing_chosen: "nothing",
    no_messages: "No message yet.", downloaded: "Downloaded.",
    trip: { started: "On your way", approaching: "Almost there", arrived: "You have arrived: a colleague is coming out",
      completed: "Collected, thank you", canceled: "Canceled", expired: "Expired" },
    eta: "{m} min, {d} m",
    purposes: {
      location: "Location", pickup_updates: "Pickup updates", offers: "Offers", product_tips: "Product tips",
    },
    order_statuses: { reserved: "reserved", ready: "ready to collect", collected: "collected", canceled: "canceled" },
  },
  fr: {
    consent_title: "Vos choix", save: "Enregistrer mes choix", saved: "Enregistré",
    push_enable: "Recevoir les notifications sur cet appareil", push_on: "Notifications activées",
    order_title: "Commander pour retrait", name_label: "Votre prénom pour l'équipe", order: "Commander",
    ordered: "Commande {ref} : {status}", none_in_stock: "Rien en stock pour l'instant.",
    trip_title: "Retrait", on_my_way: "J'arrive", available: "{n} en stock",
    pings: "{accepted} positions envoyées, {queued} en attente", waiting: "attente {s} s (trop d'envois)",
    offline: "hors ligne : gardées pour plus tard",
    save_first: "Enregistrez d'abord vos choix : vous pourrez ensuite commander et recevoir les notifications.",
    privacy_link: "Comment vos données sont utilisées",
    your_device: "Vos choix sont gardés pour cet appareil",
    my_data_title: "Mes données", history_title: "Mes choix au fil du temps", messages_title: "Messages pour cet appareil",
    download_receipts: "Télécharger mes reçus de consentement", download_export: "Télécharger toutes mes données",
    erase: "Tout effacer", erase_question: "Tout effacer sur cet appareil, partout ? C'est définitif.",
    erase_cancel: "Garder mes données", erase_confirm: "Tout effacer maintenant",
    erased: "Effacé : plus rien n'est gardé sur cet appareil.", nothing_chosen: "rien",
    no_messages: "Aucun message pour l'instant.", downloaded: "Téléchargé.",
    trip: { started: "En route", approaching: "Bientôt là", arrived: "Vous êtes arrivé : un équipier arrive",
      completed: "Retiré, merci", canceled: "Annulé", expired: "Expiré" },
    eta: "{m} min, {d} m",
    purposes: {
      location: "Localisation", pickup_updates: "Suivi du retrait", offers: "Offres", product_tips: "Conseils produit",
    },
    order_statuses: { reserved: "réservée", ready: "prête à retirer", collected: "retirée", canceled: "annulée" },
  },
};

const $ = (id) => document.getElementById(id);
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
const storeId = new URLSearchParams(location.search).get("store") || "demo-rivoli";
let sdk;
let words = WORDS.en;
let notice = null;
let followTimer = null;

function fail(error) {
  $("error").textContent = error ? `${error.message}${error.field ? ` (${error.field})` : ""}` : "";
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
  let text = fill(words.pings, status);
  if (status.waitMs > 0) text += ` · ${fill(words.waiting, { s: Math.ceil(status.waitMs / 1000) })}`;
  else if (!navigator.onLine && status.queued) text += ` · ${words.offline}`;
  $("pings").textContent = text;
}

// --- consent: the purposes as notify's privacy notice states them, in the device's language ---

// The notice is public; the answers on record exist only once the device does (every purpose is no
// until then).
async function showConsent() {
  const [privacy, current] = await Promise.all([
    sdk.privacy(),
    sdk.device ? sdk.consents() : { purposes: {}, updated_at: null },
  ]);
  notice = privacy;
  const items = Object.entries(privacy.purposes).map(([purpose, what]) => {
    const box = element("input");
    box.type = "checkbox";
    box.name = purpose;
    box.checked = current.purposes[purpose] === true;
    const label = element("label");
    const text = element("span");
    text.append(element("strong", words.purposes[purpose] || purpose), ` — ${what}`);
    label.append(box, text);
    const li = element("li");
    li.append(label);
    return li;
  });
  $("purposes").replaceChildren(...items);
  $("never").textContent = privacy.never;
  if (current.updated_at) $("consent-status").textContent = words.saved;
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
    $("consent-status").textContent = words.saved;
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
    $("push-status").textContent = words.save_first;
    return;
  }
  try {
    await sdk.enablePush();
    $("push-status").textContent = words.push_on;
    document.body.dataset.push = "on";
  } catch (error) {
    // Surfaced, never swallowed: the page works on without push.
    $("push-status").textContent = error.message;
    document.body.dataset.push = error.code;
  }
}

// --- order and trip ---

async function showProducts() {
  const products = await sdk.products(storeId);
  const items = products.map((product) => {
    const button = element("button", words.order);
    button.type = "button";
    button.dataset.sku = product.sku;
    button.addEventListener("click", () => order(product.sku, button));
    const li = element("li");
    li.append(element("span", product.name), element("span", fill(words.available, { n: product.available })), button);
    return li;
  });
  $("products").replaceChildren(...(items.length ? items : [element("li", words.none_in_stock)]));
}

function showOrder(order) {
  const status = words.order_statuses[order.status] || order.status;
  $("order-status").textContent = fill(words.ordered, { ref: order.order_id.slice(-4).toUpperCase(), status });
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
  let text = words.trip[trip.status] || trip.status;
  if (trip.eta_s != null && trip.distance_m != null && !["arrived", ...ENDED].includes(trip.status)) {
    text += ` · ${fill(words.eta, { m: Math.max(1, Math.round(trip.eta_s / 60)), d: Math.round(trip.distance_m) })}`;
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
      const granted = Object.entries(entry.purposes).filter(([, yes]) => yes).map(([p]) => words.purposes[p] || p);
      return element("li", `${when(entry.at)} · ${granted.join(", ") || words.nothing_chosen}`);
    }),
  );
  $("download-receipts").onclick = () => {
    const receipts = consents.history.map((entry) => ({ at: entry.at, receipt: entry.receipt }));
    save("consent-receipts.json", new Blob([JSON.stringify(receipts, null, 2)], { type: "application/json" }));
    $("my-data-status").textContent = words.downloaded;
  };
  const items = messages.map((message) => {
    const item = element("li", `${when(message.decided_at)} · ${message.title || message.purpose}`);
    item.id = `message-${message.id}`; // where a notification's "Why?" opens the page
    const why = message.why && (message.why[sdk.language] || message.why.en);
    if (why) item.append(element("span", why));
    if (why) item.lastChild.className = "why hint";
    return item;
  });
  $("messages").replaceChildren(...(items.length ? items : [element("li", words.no_messages)]));
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
    $("my-data-status").textContent = words.downloaded;
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
  $("consent-status").textContent = words.erased;
  document.body.dataset.erased = "yes";
  for (const box of document.querySelectorAll("#purposes input[type=checkbox]")) box.checked = false;
  $("products").replaceChildren(element("li", words.save_first));
}

// --- wiring ---

// What the page does once the device exists: on load if an earlier visit saved a choice, else after
// the first save.
async function withDevice() {
  $("device").textContent = words.your_device; // never the raw id: it means nothing to a person
  document.body.dataset.device = sdk.device.device_id;
  await Promise.all([showProducts(), showMyData()]);
  sdk.registerWorker().then(
    () => (document.body.dataset.worker = "registered"),
    (error) => ($("push-status").textContent = error.message),
  );
  if (localStorage.getItem(TRIP_KEY)) sdk.watchPosition({ onError: fail });
  await follow();
  followTimer ||= setInterval(follow, 3000);
}

async function start() {
  const config = await (await fetch("/shop/config.json")).json();
  sdk = new Accueil({ geo: config.geo, inventory: config.inventory, flushDelayMs: 2000, onPings: showPings });
  words = WORDS[sdk.language];
  document.documentElement.lang = sdk.language;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = words[el.dataset.t];
  $("store").textContent = `· ${storeId}`;
  $("privacy-link").href = sdk.privacyPage;
  showPings(sdk.pings.status());
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
  else $("products").replaceChildren(element("li", words.save_first));
  setInterval(() => showPings(sdk.pings.status()), 1000);
  document.body.dataset.ready = "yes";
}

start().catch(fail);
