// The console's store desk: one store at a time, as its manager runs it — its zones (drawn, never
// edited here), its stock, the pickup orders to prepare, the shoppers on their way, the latest alerts,
// and its staff (hire, a fresh token, remove). For admins and store managers only; a store manager
// sees their own stores alone (geo lists no other), and for anyone else the section is not in the
// page at all. Each part reads the service that owns it (geo, inventory, notify) with the console's
// token; a part the token may not read says so and the others still show.
import { lang, LANGUAGES, t } from "./console-i18n.js";
import { config, el, whenTilesFail, zonesMap } from "./console-map.js";

const POLL_MS = 10_000; // stock, orders and alerts a few seconds late at most
const STOCK_SHOWN = 100; // the first products by SKU
const ALERTS_SHOWN = 20;
const ROLES = new Set(["admin", "store_manager"]); // who runs stores (docs/api-guide.md, "Operator roles")

let signedIn = null; // the console's sign-in: its role, its token, what to do when it is refused
let session = 0; // bumped on every sign-in and sign-out: a late answer of an earlier one is dropped
let timer = null;
let stores = []; // geo's list for this token (a store manager's own stores only)
let chosen = null; // the store_id shown
let parts = {}; // the latest answer (or failure) of each part, to redraw without asking again
let drawnZones = null; // the zones the map was drawn from: redrawn only when they change
let issued = null; // a token just made, shown until dismissed: {name, token}
let removing = null; // the staff_id whose removal waits for its confirming click
let staffError = ""; // why the last staff change failed, until the next one

class Refused extends Error {}

// One call to a service, with the console's token. A 401 ends the console's sign-in.
async function call(service, method, path, body) {
  const caller = signedIn;
  if (!caller) throw new Refused(t("desk.refused")); // signed out while a poll was on its way
  const headers = { Authorization: `Bearer ${caller.token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const base = service === "notify" ? "" : config[service];
  const answer = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (answer.ok) return answer.status === 204 ? null : answer.json();
  if (answer.status === 401) {
    if (caller === signedIn) caller.refused();
    throw new Refused(t("desk.refused"));
  }
  const error = await answer.json().catch(() => ({}));
  const failure = answer.status === 403 ? new Refused(t("desk.refused")) : new Error(error.detail || answer.statusText);
  failure.field = error.field;
  throw failure;
}

const storePath = (suffix = "") => `/v1/stores/${encodeURIComponent(chosen)}${suffix}`;
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString(lang(), { hour: "2-digit", minute: "2-digit" }) : "");

async function allStores() {
  const found = [];
  let after = null;
  do {
    const page = await call("geo", "GET", `/v1/stores?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    found.push(...page.stores);
    after = page.next_after;
  } while (after);
  return found;
}

// Every part of the chosen store at once; each keeps its answer or its failure.
async function readStore() {
  const reads = {
    zones: () => call("geo", "GET", storePath("/zones")),
    stock: () => call("inventory", "GET", storePath(`/stock?limit=${STOCK_SHOWN}`)),
    orders: () => call("inventory", "GET", storePath("/orders")),
    trips: () => call("geo", "GET", storePath("/trips")),
    alerts: () => call("notify", "GET", storePath(`/alerts?limit=${ALERTS_SHOWN}`)),
    staff: () => call("notify", "GET", storePath("/staff")),
  };
  const names = Object.keys(reads);
  const settled = await Promise.allSettled(names.map((name) => reads[name]()));
  return Object.fromEntries(names.map((name, i) => [name, settled[i]]));
}

// --- drawing ---

function table(columns, rows, attrs = {}) {
  const node = el("table", attrs);
  const head = node.createTHead().insertRow();
  for (const column of columns) head.append(el("th", { scope: "col" }, t(column)));
  node.createTBody().append(...rows);
  return node;
}

function row(attrs, ...cells) {
  const tr = el("tr", attrs);
  for (const cell of cells) tr.append(cell instanceof Node ? cell : el("td", {}, String(cell ?? "")));
  return tr;
}

// A part of the store: its title, and what `draw` makes of its answer, or why there is none.
function panel(name, title, draw) {
  const box = el("div", { class: `panel ${name}`, "data-part": name });
  box.append(el("h4", {}, t(title)));
  const result = parts[name];
  if (!result) return box;
  if (result.status === "rejected") box.append(el("p", { class: "error", role: "alert" }, result.reason instanceof Refused ? result.reason.message : t("desk.failed", { error: result.reason.message })));
  else box.append(...[draw(result.value)].flat());
  return box;
}

const empty = (key) => el("p", { class: "hint empty" }, t(key));

function stockPart(answer) {
  if (!answer.items.length) return empty("desk.noStock");
  const rows = answer.items.map((i) => row({ "data-sku": i.sku }, i.sku, i.available, i.on_hand, i.reserved));
  const shown = [table(["desk.sku", "desk.available", "desk.onHand", "desk.reserved"], rows)];
  if (answer.next_after) shown.push(el("p", { class: "hint" }, t("desk.moreStock", { n: STOCK_SHOWN })));
  return shown;
}

function ordersPart(answer) {
  if (!answer.orders.length) return empty("desk.noOrders");
  const rows = answer.orders.map((o) => {
    const items = o.lines.reduce((n, line) => n + line.qty, 0);
    return row({ "data-order": o.order_id }, o.order_id.slice(-4).toUpperCase(), o.display_name || "", t(`orderStatus.${o.status}`), items, time(o.created_at));
  });
  return table(["desk.order", "desk.customer", "desk.status", "desk.items", "desk.placed"], rows);
}

function tripsPart(answer) {
  if (!answer.trips.length) return empty("desk.noTrips");
  const rows = answer.trips.map((trip) => {
    const eta = trip.eta_s == null ? "" : t("desk.minutes", { n: Math.max(1, Math.round(trip.eta_s / 60)) });
    return row({ "data-trip": trip.trip_id }, trip.order_id.slice(-4).toUpperCase(), trip.display_name || "", t(`tripStatus.${trip.status}`), eta);
  });
  return table(["desk.order", "desk.customer", "desk.status", "desk.eta"], rows);
}

function alertsPart(answer) {
  if (!answer.alerts.length) return empty("desk.noAlerts");
  const rows = answer.alerts.map((a) => row({ "data-alert": String(a.alert_id) }, time(a.at), a.text, t(`alertStatus.${a.status}`), a.acked_by_name || ""));
  return table(["desk.when", "desk.alert", "desk.status", "desk.ackedBy"], rows);
}

function staffPart(answer) {
  const shown = [];
  if (staffError) shown.push(el("p", { class: "error", role: "alert" }, staffError));
  if (issued) shown.push(issuedBox());
  if (!answer.staff.length) shown.push(empty("desk.noStaff"));
  else {
    const rows = answer.staff.map((s) => {
      const actions = el("td", { class: "actions" });
      const renew = el("button", { type: "button", class: "renew", "aria-label": t("desk.newTokenFor", { name: s.name }) }, t("desk.newToken"));
      renew.addEventListener("click", () => act(renew, async () => {
        issued = { name: s.name, token: (await call("notify", "POST", `/v1/staff/${encodeURIComponent(s.staff_id)}/token`)).token };
      }));
      const confirming = removing === s.staff_id;
      const remove = el("button", { type: "button", class: confirming ? "remove confirm" : "remove", "aria-label": t(confirming ? "desk.confirmRemove" : "desk.removeNamed", { name: s.name }) }, t(confirming ? "desk.confirm" : "desk.remove"));
      remove.addEventListener("click", () => {
        if (!confirming) {
          removing = s.staff_id;
          return redraw();
        }
        removing = null;
        return act(remove, () => call("notify", "DELETE", `/v1/staff/${encodeURIComponent(s.staff_id)}`));
      });
      actions.append(renew, remove);
      return row({ "data-staff": s.staff_id }, el("td", { class: "name" }, s.name), LANGUAGES[s.locale] || s.locale, t(s.push ? "desk.yes" : "desk.no"), actions);
    });
    shown.push(table(["desk.name", "desk.locale", "desk.push", "desk.actions"], rows, { class: "staff-list" }));
  }
  shown.push(hireForm());
  return shown;
}

// The token a staff member signs in to the store's tablet with: notify shows it once, so does the page.
function issuedBox() {
  const box = el("div", { class: "issued", role: "status" });
  const url = `${location.origin}/staff`;
  const input = el("input", { class: "token", readonly: "", value: issued.token, "aria-label": t("desk.tokenLabel", { name: issued.name }), spellcheck: "false" });
  const copy = el("button", { type: "button", class: "copy" }, t("desk.copy"));
  copy.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(issued.token);
      copy.textContent = t("desk.copied");
    } catch {
      copy.textContent = t("desk.copyByHand");
    }
  });
  const done = el("button", { type: "button", class: "done" }, t("desk.done"));
  done.addEventListener("click", () => {
    issued = null;
    redraw();
  });
  box.append(el("p", {}, t("desk.issued", { name: issued.name, url })), input, copy, done);
  return box;
}

function hireForm() {
  const form = el("form", { class: "hire", novalidate: "" });
  const name = el("input", { name: "name", autocomplete: "off" });
  const locale = el("select", { name: "locale" });
  for (const [code, language] of Object.entries(LANGUAGES)) locale.append(el("option", { value: code, lang: code }, language));
  locale.value = lang();
  const nameLabel = el("label", { class: "field" });
  nameLabel.append(el("span", {}, t("desk.newName")), name, el("span", { class: "error", "data-error-for": "name", role: "alert" }));
  const localeLabel = el("label", { class: "field" });
  localeLabel.append(el("span", {}, t("desk.locale")), locale);
  const submit = el("button", { type: "submit", class: "hire" }, t("desk.hire"));
  form.append(nameLabel, localeLabel, submit, el("p", { class: "error", "data-error-for": "form", role: "alert" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const node of form.querySelectorAll("[data-error-for]")) node.textContent = "";
    submit.disabled = true;
    try {
      const hired = await call("notify", "POST", storePath("/staff"), { name: name.value.trim(), locale: locale.value });
      issued = { name: hired.name, token: hired.token };
      name.value = "";
    } catch (error) {
      const where = error.field === "name" ? "name" : "form";
      form.querySelector(`[data-error-for="${where}"]`).textContent = error.message;
      submit.disabled = false;
      return;
    }
    await update();
  });
  return form;
}

// A staff change: the button off while it runs, then the store read afresh.
async function act(button, work) {
  button.disabled = true;
  staffError = "";
  try {
    await work();
  } catch (error) {
    staffError = t("desk.changeFailed", { error: error.message });
  }
  await update();
}

function storePicker() {
  const label = el("label", { class: "picker" });
  const select = el("select", { id: "desk-store" });
  for (const store of stores) select.append(el("option", { value: store.store_id }, `${store.name} (${store.store_id})`));
  select.value = chosen;
  select.addEventListener("change", () => {
    chosen = select.value;
    parts = {};
    drawnZones = issued = removing = null;
    redraw();
    update();
  });
  label.append(el("span", {}, t("desk.store")), " ", select);
  label.hidden = stores.length < 2;
  return label;
}

function mapPart(store) {
  const box = el("div", { class: "panel zones", "data-part": "zones" });
  box.append(el("h4", {}, t("desk.zones")), el("p", { class: "hint" }, t("desk.zonesHint")));
  const result = parts.zones;
  if (!result) return box;
  if (result.status === "rejected") {
    box.append(el("p", { class: "error", role: "alert" }, result.reason.message));
    return box;
  }
  const zones = result.value;
  const inner = zones.filter((z) => z.kind !== "approach");
  box.append(zonesMap(store, zones, inner.length ? inner : zones));
  const list = el("ul", { class: "zone-list" });
  for (const zone of zones) {
    const item = el("li", { "data-zone": zone.zone_id });
    item.append(el("span", { class: `swatch kind-${zone.kind}` }), ` ${zone.name || zone.zone_id} (${t(`kind.${zone.kind}`)})`);
    list.append(item);
  }
  if (!zones.length) box.append(empty("desk.noZones"));
  box.append(list);
  return box;
}

// The whole desk, from what the parts last answered (every poll keeps the map unless zones changed).
function redraw() {
  const section = document.getElementById("store-desk");
  if (!section) return;
  const title = el("h2", {});
  title.append(el("span", {}, t("desk.title")), " ", el("span", { class: "hint" }, t("desk.hint")));
  const store = stores.find((s) => s.store_id === chosen);
  if (!store) {
    const why = parts.stores && el("p", { class: "error", role: "alert" }, t("desk.failed", { error: parts.stores.reason.message }));
    section.replaceChildren(title, why || empty("desk.none"));
    return;
  }
  const heading = el("h3", {}, store.name);
  heading.append(" ", el("span", { class: "where" }, `${store.store_id} · ${store.timezone}`));
  const card = el("article", { class: "desk-store", "data-desk-store": store.store_id });
  const oldMap = section.querySelector('.panel.zones');
  const zonesNow = parts.zones?.status === "fulfilled" ? JSON.stringify(parts.zones.value) : null;
  const keepMap = oldMap && zonesNow !== null && zonesNow === drawnZones && oldMap.dataset.lang === lang();
  const map = keepMap ? oldMap : mapPart(store);
  map.dataset.lang = lang();
  drawnZones = zonesNow;
  const grid = el("div", { class: "desk-grid" });
  grid.append(
    map,
    panel("staff", "desk.staff", staffPart),
    panel("orders", "desk.orders", ordersPart),
    panel("trips", "desk.trips", tripsPart),
    panel("alerts", "desk.alerts", alertsPart),
    panel("stock", "desk.stock", stockPart),
  );
  // The hire form keeps what is being typed across a poll's redraw, and the keyboard its place.
  const typing = section.querySelector("form.hire");
  const focused = section.contains(document.activeElement) ? focusKey(document.activeElement) : null;
  card.append(heading, grid);
  section.replaceChildren(title, storePicker(), card);
  const fresh = card.querySelector("form.hire");
  if (typing && fresh) {
    fresh.elements.name.value = typing.elements.name.value;
    fresh.elements.locale.value = typing.elements.locale.value;
  }
  if (focused) [...section.querySelectorAll("button, input, select")].find((node) => focusKey(node) === focused)?.focus();
}

// What names a control across redraws: its row's staff member (if any), its kind and its name.
function focusKey(node) {
  return [node.closest("[data-staff]")?.dataset.staff, node.closest("[data-part]")?.dataset.part, node.tagName, node.classList[0], node.name, node.id].join("|");
}

async function update() {
  if (!signedIn) return;
  const mine = session;
  clearTimeout(timer);
  try {
    if (!stores.length) {
      stores = await allStores();
      if (mine !== session) return;
      delete parts.stores;
      if (!stores.some((s) => s.store_id === chosen)) chosen = stores[0]?.store_id ?? null;
    }
    if (chosen) {
      const read = await readStore();
      if (mine !== session) return;
      parts = { ...parts, ...read };
    }
    const live = document.getElementById("live");
    live.textContent = t("live.on", { time: new Date().toLocaleTimeString(lang()) });
    live.className = "live on";
  } catch (error) {
    if (mine !== session) return;
    parts.stores = { status: "rejected", reason: error };
  }
  if (mine !== session) return;
  redraw();
  timer = setTimeout(update, POLL_MS);
}

function reset() {
  clearTimeout(timer);
  session += 1;
  signedIn = null;
  stores = [];
  chosen = null;
  parts = {};
  drawnZones = issued = removing = null;
  staffError = "";
  document.getElementById("store-desk")?.remove();
}

document.addEventListener("console:signed-in", (event) => {
  reset();
  const { role } = event.detail;
  if (!ROLES.has(role)) return; // a marketer's console has no store desk at all
  signedIn = event.detail;
  const section = el("section", { id: "store-desk", class: "desk", "data-role": role });
  document.getElementById("stores").closest("section").after(section);
  update();
});

document.addEventListener("console:signed-out", reset);

// Another language: the desk redrawn in it at once (the map too, its labels are texts).
document.getElementById("language").addEventListener("change", () => {
  if (signedIn) redraw();
});

whenTilesFail(() => {
  drawnZones = null;
  if (signedIn) redraw();
});
