// The console's maps: a store over map tiles (Leaflet, served by notify) when the browser can fetch
// them, and the zone editor, where an operator draws a circle (press the centre, drag the radius) or a
// polygon (click the corners, close on the first one or with a double click) and saves it to geo.
// Leaflet takes the same [lat, lng] as the plain drawing: a zone sits at the same place on either.
import "./vendor/leaflet/leaflet.js";
import { t } from "./console-i18n.js";

const L = window.L; // Leaflet's UMD build sets its global when imported for its effect
const TILE_WAIT_MS = 8000; // no tile by then (a proxy swallowing requests): the plain drawing instead
const CLOSE_PX = 10; // a click this near the first corner closes the polygon
const KINDS = ["store", "pickup", "department", "approach"];
const MAX_ZOOM = 21; // tiles stop at 19: the last levels stretch them, a store's zones need it

export let config = { geo: "", inventory: "", tile_url: "", tile_attribution: "" };
let tilesFailed = false;
const onTilesFailed = []; // who redraws when tiles turn out unreachable

let configLoading = null;

// Read once, whichever way the operator signed in; a failure leaves the defaults (no tiles, geo and
// inventory at notify's own origin) and is not retried until the page reloads.
export function loadConfig() {
  configLoading ??= fetch("/console/config.json")
    .then(async (answer) => {
      if (answer.ok) config = await answer.json();
    })
    .catch(() => {});
  return configLoading;
}

export const tilesUsable = () => Boolean(config.tile_url) && !tilesFailed;

export function whenTilesFail(callback) {
  onTilesFailed.push(callback);
}

function tilesFail() {
  if (tilesFailed) return;
  tilesFailed = true;
  for (const callback of onTilesFailed) callback();
}

export function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const escaped = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`); // Leaflet writes it as HTML

// A tile layer that says when the browser cannot fetch its tiles: the first tile failing before any
// loaded, or none loaded in time, and the console falls back to the plain drawing.
function tiles() {
  const layer = L.tileLayer(config.tile_url, { maxZoom: MAX_ZOOM, maxNativeZoom: 19, attribution: escaped(config.tile_attribution) });
  let loaded = false;
  const timer = setTimeout(() => loaded || tilesFail(), TILE_WAIT_MS);
  layer.on("tileload", () => {
    loaded = true;
    clearTimeout(timer);
  });
  layer.on("tileerror", () => loaded || tilesFail());
  return layer;
}

function zoneLayer(zone, className) {
  const options = { className: `${className} kind-${zone.kind}`, weight: 2, fillOpacity: zone.kind === "approach" ? 0.07 : 0.18 };
  const layer = zone.circle
    ? L.circle([zone.circle.lat, zone.circle.lng], { ...options, radius: zone.circle.radius_m })
    : L.polygon(zone.polygon.coordinates.map((ring) => ring.slice(0, -1).map(([lng, lat]) => [lat, lng])), options);
  layer.bindTooltip(`${zone.name || zone.zone_id} (${zone.kind})`);
  return layer;
}

function tagged(layer, attrs) {
  const node = layer.getElement();
  if (node) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
}

function bounds(store, zones) {
  const box = L.latLng(store.lat, store.lng).toBounds(50); // a store without zones: 50 m around its centre
  for (const zone of zones) {
    box.extend(zone.circle ? L.latLng(zone.circle.lat, zone.circle.lng).toBounds(2 * zone.circle.radius_m) : L.polygon(zone.polygon.coordinates[0].map(([lng, lat]) => [lat, lng])).getBounds());
  }
  return box.pad(0.05);
}

// A map with a view at once: Leaflet draws a layer only once its map has one (fitted when shown).
function newMap(holder, withTiles, store) {
  const map = L.map(holder, { maxZoom: MAX_ZOOM, zoomSnap: 0.25, attributionControl: withTiles }).setView([store.lat, store.lng], 18);
  if (withTiles) {
    map.attributionControl.setPrefix(false);
    tiles().addTo(map);
  }
  L.control.scale({ imperial: false }).addTo(map);
  return map;
}

// Leaflet needs its box laid out to fit a view: fitted once the card is in the page.
function fitWhenShown(map, holder, box) {
  const fit = () => {
    if (!holder.isConnected || !holder.clientWidth) return requestAnimationFrame(fit);
    map.invalidateSize();
    map.fitBounds(box, { animate: false });
    holder.dataset.fitted = "yes"; // where a test may start pointing at it
  };
  requestAnimationFrame(fit);
}

// A store's zones over the tiles, fitted as the plain drawing is (`framed`: the zones to show whole).
export function tiledMap(store, framed) {
  return zonesMap(store, store.zones, framed, true);
}

// A store's zones to look at, never to edit: over the tiles while the browser can fetch them, on a
// blank ground otherwise (the same coordinates either way), fitted to `framed`.
export function zonesMap(store, zones, framed = zones, withTiles = tilesUsable()) {
  // A named group, not an image: Leaflet puts its zoom buttons inside.
  const holder = el("div", { class: `map ${withTiles ? "tiled" : "plain"}`, role: "group", "aria-label": t("map.zonesOf", { store: store.name }) });
  const map = newMap(holder, withTiles, store);
  for (const zone of zones) {
    const layer = zoneLayer(zone, "zone").addTo(map);
    tagged(layer, { "data-zone": zone.zone_id });
  }
  fitWhenShown(map, holder, bounds(store, framed));
  return holder;
}

// --- the zone editor ---

export function field(form, name, label, control) {
  const row = el("label", { class: "field" });
  row.append(el("span", { "data-i18n": label }, t(label)), control, el("span", { class: "error", "data-error-for": name, role: "alert" }));
  form.append(row);
  return control;
}

// Which input a 422's `field` names: the zone's id is the URL's, the shape's are the drawing's.
function fieldOf(name) {
  if (!name) return "form";
  const head = name.split(/[.[]/)[0];
  if (head === "zone_id" || head === "name" || head === "kind") return head;
  if (head === "circle" || head === "polygon") return "shape";
  return "form";
}

export class ZoneEditor {
  // `token()`: the bearer token the console holds; `saved()`: the console refreshes after a change.
  constructor(holder, token, saved) {
    this.holder = holder;
    this.token = token;
    this.saved = saved;
    this.map = null;
  }

  async geo(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token()}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const answer = await fetch(`${config.geo}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (answer.ok) return answer.status === 204 ? null : answer.json();
    const error = await answer.json().catch(() => ({}));
    const failure = new Error(error.detail || answer.statusText);
    failure.field = error.field;
    throw failure;
  }

  close() {
    if (this.map) this.map.remove();
    this.map = null;
    this.holder.replaceChildren();
    this.holder.hidden = true;
  }

  // Open on `store`, the other stores' zones shown faintly around it.
  async open(store, stores) {
    this.close();
    this.store = store;
    this.others = stores.filter((s) => s.store_id !== store.store_id);
    this.holder.hidden = false;
    const title = el("h3", {}, t("editor.title", { store: store.name }));
    const tools = el("div", { class: "tools" });
    this.buttons = {};
    for (const tool of ["circle", "polygon"]) {
      const button = el("button", { type: "button", class: `tool ${tool}`, "aria-pressed": "false" }, t(`editor.${tool}`));
      button.addEventListener("click", () => this.startDrawing(tool));
      this.buttons[tool] = button;
      tools.append(button);
    }
    const help = el("p", { class: "hint help" });
    const shapeError = el("span", { class: "error", "data-error-for": "shape", role: "alert" });
    tools.append(help, shapeError);
    this.help = help;
    const area = el("div", { class: "editor-map map", "data-tiles": tilesUsable() ? "on" : "off" });
    const form = el("form", { class: "zone-form", novalidate: "" });
    this.inputs = {
      zone_id: field(form, "zone_id", "editor.id", el("input", { name: "zone_id", autocomplete: "off", spellcheck: "false" })),
      name: field(form, "name", "editor.name", el("input", { name: "name", autocomplete: "off" })),
      kind: field(form, "kind", "editor.kind", el("select", { name: "kind" })),
    };
    for (const kind of KINDS) this.inputs.kind.append(el("option", { value: kind }, t(`kind.${kind}`)));
    const actions = el("div", { class: "actions" });
    const save = el("button", { type: "submit", class: "save" }, t("editor.save"));
    const remove = el("button", { type: "button", class: "delete" }, t("editor.delete"));
    const done = el("button", { type: "button", class: "close" }, t("editor.close"));
    actions.append(save, remove, done);
    form.append(actions, el("p", { class: "error", "data-error-for": "form", role: "alert" }), el("p", { class: "saved hint", role: "status" }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    remove.addEventListener("click", () => this.remove());
    done.addEventListener("click", () => this.close());
    this.form = form;
    this.removeButton = remove;
    this.holder.replaceChildren(title, tools, area, form);
    this.map = newMap(area, tilesUsable(), store);
    this.map.doubleClickZoom.disable(); // a double click closes a polygon
    this.zones = L.layerGroup().addTo(this.map);
    this.drawing = null;
    // The browser ends a circle's drag with a click on whatever is under it: that click chooses nothing.
    // A new press starts afresh (a drag may end off the map, with no click at all).
    this.dragEnded = false;
    this.map.on("mousedown", () => (this.dragEnded = false));
    this.map.on("click", () => (this.dragEnded = false));
    this.shape = null; // the geometry to save: drawn now, or the selected zone's
    this.select(null);
    try {
      await this.reload();
    } catch (error) {
      this.holder.querySelector('[data-error-for="form"]').textContent = error.message; // geo unreachable
    }
    fitWhenShown(this.map, area, bounds(store, store.zones.filter((z) => z.kind !== "approach")));
    this.holder.scrollIntoView({ block: "nearest" });
  }

  async reload() {
    const zones = await this.geo("GET", `/v1/stores/${encodeURIComponent(this.store.store_id)}/zones`);
    this.zones.clearLayers();
    for (const other of this.others) {
      for (const zone of other.zones) zoneLayer(zone, "zone other").addTo(this.zones);
    }
    // The largest first: a smaller zone inside another stays on top, there to click.
    for (const zone of [...zones].sort((p, q) => area(q) - area(p))) {
      const layer = zoneLayer(zone, "zone mine").addTo(this.zones);
      tagged(layer, { "data-zone": zone.zone_id });
      layer.on("click", (event) => {
        // A corner of the polygon being drawn, or the click that ends a circle's drag: not a choice.
        if (this.drawing || this.dragEnded) return;
        L.DomEvent.stopPropagation(event);
        this.select(zone);
      });
    }
    this.existing = zones;
  }

  clearErrors() {
    for (const node of this.holder.querySelectorAll("[data-error-for]")) node.textContent = "";
    this.holder.querySelector(".saved").textContent = "";
  }

  // A zone chosen to edit (its form filled, its shape kept unless one is drawn), or none: a new zone.
  select(zone) {
    this.clearErrors();
    this.stopDrawing();
    if (this.preview) this.preview.remove();
    this.preview = null;
    this.selected = zone;
    this.inputs.zone_id.value = zone ? zone.zone_id : "";
    this.inputs.zone_id.readOnly = Boolean(zone);
    this.inputs.name.value = zone?.name || "";
    this.inputs.kind.value = zone ? zone.kind : "department";
    this.shape = zone ? (zone.circle ? { circle: zone.circle } : { polygon: zone.polygon }) : null;
    this.removeButton.hidden = !zone;
    for (const node of this.holder.querySelectorAll(".zone.mine")) node.classList.toggle("selected", node.getAttribute("data-zone") === zone?.zone_id);
    this.help.textContent = t(zone ? "editor.helpEdit" : "editor.helpNew");
  }

  startDrawing(tool) {
    this.stopDrawing();
    this.clearErrors();
    if (this.preview) this.preview.remove();
    this.preview = null;
    this.drawing = { tool, corners: [] };
    this.buttons[tool].setAttribute("aria-pressed", "true");
    this.map.getContainer().classList.add("drawing");
    this.help.textContent = t(`editor.how.${tool}`);
    const map = this.map;
    if (tool === "circle") {
      map.dragging.disable(); // the drag draws the radius, it does not pan
      this.handlers = {
        mousedown: (e) => {
          this.drawing.centre = e.latlng;
          this.preview = L.circle(e.latlng, { radius: 0.1, className: "zone drawn", interactive: false }).addTo(map);
        },
        mousemove: (e) => this.drawing.centre && this.preview.setRadius(Math.max(map.distance(this.drawing.centre, e.latlng), 0.1)),
        mouseup: (e) => {
          if (!this.drawing.centre) return;
          const radius = map.distance(this.drawing.centre, e.latlng);
          this.dragEnded = true;
          const { lat, lng } = this.drawing.centre;
          this.finish({ circle: { lat: round(lat, 7), lng: round(lng, 7), radius_m: round(radius, 1) } });
        },
      };
    } else {
      this.handlers = {
        click: (e) => this.corner(e.latlng),
        dblclick: (e) => {
          L.DomEvent.stop(e);
          this.closePolygon();
        },
        mousemove: (e) => this.preview && this.preview.setLatLngs([...this.drawing.corners, e.latlng]),
      };
    }
    for (const [name, handler] of Object.entries(this.handlers)) map.on(name, handler);
  }

  corner(latlng) {
    const { corners } = this.drawing;
    const point = this.map.latLngToContainerPoint(latlng);
    const near = (other) => this.map.latLngToContainerPoint(other).distanceTo(point) <= CLOSE_PX;
    if (corners.length >= 3 && near(corners[0])) return this.closePolygon();
    if (corners.length && near(corners[corners.length - 1])) return; // the second click of a double click
    corners.push(latlng);
    if (!this.preview) this.preview = L.polyline(corners, { className: "zone drawn open", interactive: false }).addTo(this.map);
    this.preview.setLatLngs(corners);
  }

  closePolygon() {
    const { corners } = this.drawing;
    if (corners.length < 3) return;
    const ring = corners.map(({ lat, lng }) => [round(lng, 7), round(lat, 7)]);
    this.preview.remove();
    this.preview = L.polygon(corners, { className: "zone drawn", interactive: false }).addTo(this.map);
    this.finish({ polygon: { type: "Polygon", coordinates: [[...ring, ring[0]]] } });
  }

  finish(shape) {
    this.shape = shape;
    this.stopDrawing();
    this.help.textContent = t("editor.drawn");
    this.holder.querySelector(".editor-map").dataset.drawn = Object.keys(shape)[0];
    this.inputs[this.selected ? "name" : "zone_id"].focus();
  }

  stopDrawing() {
    if (!this.drawing) return;
    for (const [name, handler] of Object.entries(this.handlers)) this.map.off(name, handler);
    this.map.dragging.enable();
    this.map.getContainer().classList.remove("drawing");
    for (const button of Object.values(this.buttons)) button.setAttribute("aria-pressed", "false");
    if (this.preview && !(this.preview instanceof L.Circle || this.preview instanceof L.Polygon)) {
      this.preview.remove(); // an open polyline: the polygon was never closed
      this.preview = null;
    }
    this.drawing = null;
  }

  // Written whole, as geo's PUT takes it; geo is the validator: its 422 is shown by the field it names.
  async save() {
    this.clearErrors();
    const zoneId = this.inputs.zone_id.value.trim();
    const body = { kind: this.inputs.kind.value, ...(this.shape || {}) };
    const name = this.inputs.name.value.trim();
    if (name) body.name = name;
    if (this.selected?.dwell_s) body.dwell_s = this.selected.dwell_s;
    try {
      if (!zoneId) throw Object.assign(new Error(t("editor.idNeeded")), { field: "zone_id" });
      await this.geo("PUT", `/v1/stores/${encodeURIComponent(this.store.store_id)}/zones/${encodeURIComponent(zoneId)}`, body);
    } catch (error) {
      this.holder.querySelector(`[data-error-for="${fieldOf(error.field)}"]`).textContent = error.message;
      return;
    }
    await this.afterChange(t("editor.savedAs", { zone: zoneId }));
  }

  async remove() {
    if (!this.selected) return;
    const zoneId = this.selected.zone_id;
    try {
      await this.geo("DELETE", `/v1/stores/${encodeURIComponent(this.store.store_id)}/zones/${encodeURIComponent(zoneId)}`);
    } catch (error) {
      this.holder.querySelector('[data-error-for="form"]').textContent = error.message;
      return;
    }
    await this.afterChange(t("editor.deleted", { zone: zoneId }));
  }

  async afterChange(message) {
    this.select(null);
    delete this.holder.querySelector(".editor-map").dataset.drawn;
    await this.reload();
    this.holder.querySelector(".saved").textContent = message;
    this.saved();
  }
}

const round = (x, digits) => Number(x.toFixed(digits));

// Square metres, near enough to order zones by (a polygon's outline, its holes ignored).
function area(zone) {
  if (zone.circle) return Math.PI * zone.circle.radius_m ** 2;
  const ring = zone.polygon.coordinates[0];
  const metresPerDegree = (Math.PI * 6371008.8) / 180;
  const across = metresPerDegree * Math.cos((ring[0][1] * Math.PI) / 180);
  let twice = 0;
  for (let i = 1; i < ring.length; i += 1) {
    twice += (ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1]) * across * metresPerDegree;
  }
  return Math.abs(twice) / 2;
}
