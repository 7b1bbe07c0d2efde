// The operator's console: stores and zones drawn to scale, devices per zone now, campaigns with
// their funnels (pause / resume), journeys with their steps, live counts and uplift (pause / resume),
// the latest decisions; zones drawn and saved on the store's map (console-map.js, to geo); campaigns and
// journeys written in their editors (console-campaigns.js, console-journeys.js); one store as its
// manager runs it (console-stores.js); its texts in English and French (console-i18n.js). No
// framework and no build step: it is served by notify, and its overview reads from notify only, which
// gathers what geo and inventory hold.
import { choose, lang, LANGUAGES, t, translatePage } from "./console-i18n.js";
import { loadConfig, tiledMap, tilesUsable, whenTilesFail, ZoneEditor } from "./console-map.js";
import { CampaignEditor } from "./console-campaigns.js";
import { JourneyEditor } from "./console-journeys.js";

(() => {
  const TOKEN_KEY = "accueil.adminToken"; // sessionStorage: forgotten when the tab closes
  const POLL_MS = 3000; // counts are polled: a few seconds late at most, and one request per poll
  const EARTH_M = 6371008.8; // mean radius: metres per radian
  const SVG = "http://www.w3.org/2000/svg";
  const DRAW_ORDER = { approach: 0, store: 1, department: 2, pickup: 3 }; // small zones drawn on top
  const FUNNEL = ["decided", "sent", "shown", "clicked", "orders"];
  const ARMS = ["treatment", "control"];
  const AUTHORS = ["admin", "marketer"]; // the roles that may write journeys (the API's rule)
  const DURATION_UNITS = ["unit.wk", "unit.d", "unit.h", "unit.min", "unit.s"]; // in the order ISO 8601 writes them: W D T H M S

  const $ = (id) => document.getElementById(id);
  const drawn = new Map(); // store_id -> the shapes it was drawn from (redrawn only when they change)
  const wide = new Set(); // stores shown with their approach zones whole
  let token = null;
  let role = null; // the signed-in operator's; the admin token's is admin
  let hooks = {}; // set by sign_on.js when operators sign in with the retailer's provider
  let timer = null;
  let polls = 0;
  let asked = 0; // overview requests sent so far
  let stores = []; // the latest overview's, for the zone editor's surroundings
  const editor = new ZoneEditor($("zone-editor"), () => token, () => refresh().catch(() => {}));
  const campaignEditor = new CampaignEditor($("campaign-editor"), (...call) => api(...call), () => token, () =>
    refresh().catch(() => {}),
  );
  const journeyEditor = new JourneyEditor($("journey-editor"), (...call) => api(...call), () => token, () =>
    refresh().catch(() => {}),
  );
  const mayAuthor = () => AUTHORS.includes(role);
  // The overview spans every store and campaign: a store manager's console is their stores alone
  // (console-stores.js), and the overview's sections are not theirs.
  const readsOverview = () => role !== "store_manager";
  const OVERVIEW_SECTIONS = ["stores", "campaigns", "journeys", "decisions"];

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      const failure = new Error(error.detail || response.statusText);
      failure.status = response.status;
      failure.field = error.field;
      throw failure;
    }
    return response.status === 204 ? null : response.json();
  }

  // --- drawing a store to scale ---

  // Metres east and south of the store's centre (equirectangular: exact enough at a store's scale).
  function projector(store) {
    const cos = Math.cos((store.lat * Math.PI) / 180);
    return (lat, lng) => [
      ((lng - store.lng) * Math.PI * EARTH_M * cos) / 180,
      (-(lat - store.lat) * Math.PI * EARTH_M) / 180,
    ];
  }

  function rings(zone, project) {
    return zone.polygon.coordinates.map((ring) => ring.map(([lng, lat]) => project(lat, lng)));
  }

  function extent(zone, project) {
    if (zone.circle) {
      const [x, y] = project(zone.circle.lat, zone.circle.lng);
      const r = zone.circle.radius_m;
      return [x - r, y - r, x + r, y + r];
    }
    const points = rings(zone, project)[0];
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }

  function centre(zone, project) {
    if (zone.circle) return project(zone.circle.lat, zone.circle.lng);
    const outer = rings(zone, project)[0].slice(0, -1); // the closing position repeats the first
    return [outer.reduce((s, p) => s + p[0], 0) / outer.length, outer.reduce((s, p) => s + p[1], 0) / outer.length];
  }

  function niceLength(span) {
    const rough = span / 5;
    const power = 10 ** Math.floor(Math.log10(rough));
    return [5, 2, 1].map((m) => m * power).find((m) => m <= rough) || power;
  }

  // The view fits the store's own zones; approach zones, often a kilometre wide, are drawn to the same
  // scale but only shown whole in the wide view (they would shrink the shop to a dot).
  function framed(store, wide) {
    const inner = store.zones.filter((z) => z.kind !== "approach");
    return wide || inner.length === 0 ? store.zones : inner;
  }

  function drawMap(store, wide) {
    const project = projector(store);
    let box = [-25, -25, 25, 25]; // a store without zones still shows 50 m around its centre
    for (const zone of framed(store, wide)) {
      const [a, b, c, d] = extent(zone, project);
      box = [Math.min(box[0], a), Math.min(box[1], b), Math.max(box[2], c), Math.max(box[3], d)];
    }
    const side = Math.max(box[2] - box[0], box[3] - box[1]) * 1.1;
    const cx = (box[0] + box[2]) / 2;
    const cy = (box[1] + box[3]) / 2;
    const map = svg("svg", {
      class: "map",
      viewBox: `${cx - side / 2} ${cy - side / 2} ${side} ${side}`,
      role: "img",
      "aria-label": t("map.zonesOf", { store: store.name }),
      "data-side-m": side.toFixed(1),
    });
    const zones = [...store.zones].sort((p, q) => (DRAW_ORDER[p.kind] ?? 9) - (DRAW_ORDER[q.kind] ?? 9));
    for (const zone of zones) {
      const common = { class: `zone kind-${zone.kind}`, "data-zone": zone.zone_id, "vector-effect": "non-scaling-stroke" };
      const label = svg("title", {}, `${zone.name || zone.zone_id} (${zone.kind})`);
      if (zone.circle) {
        const [x, y] = project(zone.circle.lat, zone.circle.lng);
        map.append(svg("circle", { ...common, cx: x, cy: y, r: zone.circle.radius_m }));
        map.lastChild.append(label);
        continue;
      }
      const [outer, ...holes] = rings(zone, project);
      map.append(svg("polygon", { ...common, points: outer.map((p) => p.join(",")).join(" ") }));
      map.lastChild.append(label);
      for (const hole of holes) {
        const points = hole.map((p) => p.join(",")).join(" ");
        map.append(svg("polygon", { class: "hole", "vector-effect": "non-scaling-stroke", points }));
      }
    }
    const dot = side / 120;
    const byZone = new Map(store.zones.map((z) => [z.zone_id, z]));
    const placed = new Map();
    for (const beacon of store.beacons) {
      const zone = byZone.get(beacon.zone_id);
      if (!zone) continue;
      // A beacon has no position of its own: drawn in the zone it marks, several spread on a small ring.
      const nth = placed.get(zone.zone_id) || 0;
      placed.set(zone.zone_id, nth + 1);
      const [x, y] = centre(zone, project);
      const angle = (nth * 2 * Math.PI) / 6;
      const ring = dot * 6;
      const b = svg("circle", { class: "beacon", "data-beacon": beacon.beacon_id, cx: x + ring * Math.cos(angle), cy: y + ring * Math.sin(angle), r: dot });
      b.append(svg("title", {}, t("map.beacon", { beacon: beacon.beacon_id, zone: zone.zone_id })));
      map.append(b);
    }
    const size = side / 22;
    for (const zone of zones) {
      // Each count just inside the top of its zone: zones sharing a centre keep their labels apart.
      const [x] = centre(zone, project);
      const top = extent(zone, project)[1];
      const attrs = { class: `label count kind-${zone.kind}`, "data-zone": zone.zone_id, x, y: top + size, "font-size": size };
      map.append(svg("text", attrs, ""));
    }
    const length = niceLength(side);
    const x0 = cx - side / 2 + side * 0.05;
    const y0 = cy + side / 2 - side * 0.05;
    map.append(svg("line", { class: "scale", x1: x0, y1: y0, x2: x0 + length, y2: y0, "vector-effect": "non-scaling-stroke" }));
    map.append(svg("text", { class: "scale-label", x: x0, y: y0 - side * 0.02, "font-size": side / 28 }, `${length} m`));
    return map;
  }

  function storeCard(store) {
    const card = el("article", { class: "store", "data-store": store.store_id });
    const title = el("h3", {}, store.name);
    title.append(" ", el("span", { class: "where" }, `${store.store_id} · ${store.timezone}`));
    const isWide = wide.has(store.store_id);
    // Over the map's tiles while the browser can fetch them; the plain drawing otherwise.
    card.append(tilesUsable() ? tiledMap(store, framed(store, isWide)) : drawMap(store, isWide));
    const edit = el("button", { type: "button", class: "edit-zones" }, t("stores.editZones"));
    edit.addEventListener("click", () => editor.open(store, stores));
    card.append(edit);
    if (store.zones.some((z) => z.kind === "approach")) {
      const toggle = el("button", { type: "button", class: "wide" }, t(isWide ? "stores.showStore" : "stores.showApproach"));
      toggle.addEventListener("click", () => {
        if (!wide.delete(store.store_id)) wide.add(store.store_id);
        drawn.delete(store.store_id); // redrawn at the next poll, at once here
        refresh().catch(() => {});
      });
      card.append(toggle);
    }
    const list = el("ul", { class: "counts" });
    for (const zone of store.zones) {
      const item = el("li", { "data-zone": zone.zone_id });
      item.append(
        el("span", { class: `swatch kind-${zone.kind}` }),
        el("span", { class: "zone-name" }, `${zone.name || zone.zone_id} (${t(`kind.${zone.kind}`)})`),
        el("span", { class: "count", "data-zone": zone.zone_id }),
      );
      list.append(item);
    }
    card.append(list);
    return card;
  }

  function showStores(list) {
    stores = list;
    const holder = $("stores");
    const seen = new Set();
    for (const store of stores) {
      seen.add(store.store_id);
      const shapes = JSON.stringify([store.name, store.lat, store.lng, store.zones.map(({ devices, ...z }) => z), store.beacons]);
      let card = holder.querySelector(`[data-store="${CSS.escape(store.store_id)}"]`);
      if (!card || drawn.get(store.store_id) !== shapes) {
        const fresh = storeCard(store);
        if (card) card.replaceWith(fresh);
        else holder.append(fresh);
        card = fresh;
        drawn.set(store.store_id, shapes);
      }
      for (const zone of store.zones) {
        for (const count of card.querySelectorAll(`.count[data-zone="${CSS.escape(zone.zone_id)}"]`)) {
          count.textContent = String(zone.devices);
        }
      }
    }
    for (const card of [...holder.children]) {
      if (!seen.has(card.dataset.store)) {
        drawn.delete(card.dataset.store);
        card.remove();
      }
    }
    $("no-stores").hidden = stores.length > 0;
  }

  // --- campaigns ---

  function triggerText(trigger) {
    const { store_id, zone_id, zone_kind } = trigger;
    const where = [store_id && t("trigger.store", { id: store_id }), zone_id && t("trigger.zone", { id: zone_id }), zone_kind && t("trigger.kind", { kind: zone_kind })];
    const text = `${trigger.type} · ${where.filter(Boolean).join(", ") || t("trigger.anyZone")}`;
    return trigger.min_confidence != null ? `${text} · ${t("trigger.confidence", { n: trigger.min_confidence })}` : text;
  }

  function scheduleText(s) {
    if (!s) return t("schedule.always");
    const parts = [];
    if (s.starts_at) parts.push(t("schedule.from", { when: new Date(s.starts_at).toLocaleString(lang()) }));
    if (s.ends_at) parts.push(t("schedule.until", { when: new Date(s.ends_at).toLocaleString(lang()) }));
    for (const h of s.hours || []) parts.push(`${h.days.join(" ")} ${h.from}–${h.to}`);
    return parts.join("; ") || t("schedule.always");
  }

  function funnel(results) {
    const box = el("div", { class: "funnel", "data-campaign": results.campaign_id });
    const top = Math.max(results.decided, 1);
    for (const step of FUNNEL) {
      const bar = el("div", { class: `bar ${step}` });
      bar.style.width = `${(100 * results[step]) / top}%`; // CSSOM, allowed under the page's CSP
      const track = el("div");
      track.append(bar);
      box.append(el("span", {}, t(`funnel.${step}`)), track, el("span", { class: "n", "data-step": step }, String(results[step])));
    }
    const holder = el("div");
    holder.append(box);
    const reasons = Object.entries(results.suppressed || {});
    if (reasons.length) holder.append(el("div", { class: "suppressed" }, t("suppressed", { list: reasons.map(([r, n]) => `${r} ${n}`).join(", ") })));
    return holder;
  }

  // A button's change: the button off while it runs, the page refreshed after it, and a failure (or
  // what `work` returns to warn of) said in `errorId`.
  async function change(button, errorId, what, work) {
    button.disabled = true;
    $(errorId).textContent = "";
    try {
      const warning = await work();
      await refresh();
      if (warning) $(errorId).textContent = warning;
    } catch (error) {
      if (error.status === 401) return signOut(tokenRefused());
      $(errorId).textContent = t("change.failed", { what, error: error.message });
    } finally {
      button.disabled = false;
    }
  }

  function setActive(campaignId, active, button) {
    return change(button, "campaign-error", campaignId, async () => {
      // Read it afresh and write it back whole with only `active` changed: the contract's PUT.
      const campaign = await api("GET", `/v1/campaigns/${encodeURIComponent(campaignId)}`);
      const body = { trigger: campaign.trigger, sku: campaign.sku, message: campaign.message, active };
      if (campaign.schedule) body.schedule = campaign.schedule;
      await api("PUT", `/v1/campaigns/${encodeURIComponent(campaignId)}`, body);
    });
  }

  function showCampaigns(campaigns) {
    const body = $("campaigns").tBodies[0];
    body.replaceChildren();
    for (const c of campaigns) {
      const row = el("tr", { "data-campaign": c.campaign_id });
      const action = el("td");
      if (c.status !== "ended") {
        const edit = el("button", { type: "button", class: "edit" }, t("campaignEditor.edit"));
        edit.addEventListener("click", async () => {
          try {
            campaignEditor.open(await api("GET", `/v1/campaigns/${encodeURIComponent(c.campaign_id)}`));
          } catch (error) {
            $("campaign-error").textContent = error.message;
          }
        });
        action.append(edit);
        const pause = c.status === "active";
        const button = el("button", { type: "button", class: pause ? "pause" : "resume" }, t(pause ? "pause" : "resume"));
        button.addEventListener("click", () => setActive(c.campaign_id, !pause, button));
        action.append(button);
        const dry = el("button", { type: "button", class: "dry-run", "aria-label": t("dryRun.named", { name: c.campaign_id }) }, t("dryRun"));
        dry.addEventListener("click", () => import("/console/dry-run.js").then((m) => m.dryRun(c.campaign_id, api, dry)));
        action.append(dry);
      }
      const results = el("td");
      results.append(funnel(c.results));
      row.append(
        el("td", {}, c.campaign_id),
        el("td", {}, triggerText(c.trigger)),
        el("td", {}, c.product ? `${c.product} (${c.sku})` : c.sku),
        el("td", { class: `status ${c.status}` }, t(`status.${c.status}`)),
        el("td", {}, scheduleText(c.schedule)),
        results,
        action,
      );
      body.append(row);
    }
    $("campaigns").hidden = campaigns.length === 0;
    $("no-campaigns").hidden = campaigns.length > 0;
  }

  // --- journeys ---

  // PT1H30M -> "1 h 30 min", P1D -> "1 d": a journey's durations as an operator reads them.
  function durationText(iso) {
    const match = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso || "");
    if (!match) return iso;
    const parts = DURATION_UNITS.map((unit, i) => match[i + 1] && `${Number(match[i + 1])} ${t(unit)}`);
    return parts.filter(Boolean).join(" ") || iso;
  }

  function zoneText(z) {
    if (z.zone_id && z.zone_kind) return t("trigger.zoneWithKind", { id: z.zone_id, kind: z.zone_kind });
    return z.zone_id ? t("trigger.zone", { id: z.zone_id }) : z.zone_kind ? t("trigger.kind", { kind: z.zone_kind }) : t("trigger.anyZone");
  }

  function entryText(j) {
    const e = j.entry;
    const where = [e.store_id && t("trigger.store", { id: e.store_id }), (e.zone_id || e.zone_kind) && zoneText(e), e.sku && t("entry.order", { sku: e.sku })];
    const parts = [`${t("entry.enters", { event: e.event })}${where.some(Boolean) ? ` · ${where.filter(Boolean).join(", ")}` : ""}`];
    parts.push(t("entry.control", { n: j.holdout_percent }));
    if (j.goal) parts.push(t(j.goal.sku ? "entry.goalSku" : "entry.goal", { event: j.goal.event, sku: j.goal.sku, within: durationText(j.goal.within) }));
    if (j.exit_on.length) parts.push(t("entry.leaves", { events: j.exit_on.join(", ") }));
    return parts.join(" · ");
  }

  function conditionText(c) {
    if (c.in_zone) return t("condition.inZone", { zone: zoneText(c.in_zone) });
    if (c.in_stock) return t("condition.inStock", { sku: c.in_stock });
    if (c.consent) return t("condition.consent", { what: c.consent });
    if (c.had_event) return t("condition.hadEvent", { event: c.had_event });
    return JSON.stringify(c);
  }

  const then = (next) => `→ ${next || t("step.done")}`; // a step with no next ends the journey, completed

  // What a step does, in one line: its type's gist and where it leads.
  function stepText(s) {
    switch (s.type) {
      case "wait":
        return t("step.wait", { for: durationText(s.for), then: then(s.next) });
      case "wait_for":
        return t("step.waitFor", { timeout: durationText(s.timeout), event: s.event, then: then(s.next), otherwise: then(s.timeout_next) });
      case "branch":
        return t("step.branch", { condition: conditionText(s.if), then: then(s.then), otherwise: then(s.else) });
      case "message": {
        const texts = s.message[lang()] || s.message.en || Object.values(s.message)[0];
        return t("step.message", { purpose: s.purpose, sku: s.sku ? ` · ${s.sku}` : "", title: texts.title, then: then(s.next) });
      }
      case "exit":
        return t("step.exit");
      default:
        return s.type;
    }
  }

  const percent = (rate) => (rate == null ? "–" : `${(100 * rate).toFixed(1)}%`);
  const signed = (x, digits) => `${x < 0 ? "−" : "+"}${Math.abs(x).toFixed(digits)}`;
  const points = (x) => signed(100 * x, 1); // a difference of rates, in percentage points

  function stepsTable(j) {
    const table = el("table", { class: "steps" });
    const head = table.createTHead().insertRow();
    for (const title of ["step", "does", "now", "reached", "sent", "suppressed"]) head.append(el("th", { scope: "col" }, t(`steps.${title}`)));
    const body = table.createTBody();
    const r = j.results;
    for (const step of j.steps) {
      const counts = r.steps[step.id] || { reached: 0 };
      const suppressed = Object.entries(counts.suppressed || {}).map(([reason, n]) => `${reason} ${n}`);
      const row = el("tr", { "data-step": step.id });
      row.append(
        el("td", { class: "step-id" }, step.id),
        el("td", { class: "gist" }, stepText(step)),
        el("td", { class: "now" }, String(r.now[step.id] || 0)),
        el("td", { class: "reached" }, String(counts.reached)),
        el("td", { class: "sent" }, counts.sent == null ? "" : String(counts.sent)),
        el("td", { class: "suppressed" }, suppressed.join(", ")),
      );
      body.append(row);
    }
    return table;
  }

  // Entered per arm, and with a goal its conversion per arm and the uplift with its 95% interval
  // (Newcombe's hybrid score interval, computed by notify).
  function armsTable(j) {
    const goal = j.results.goal;
    const table = el("table", { class: "arms" });
    const head = table.createTHead().insertRow();
    const columns = goal ? ["arm", "entered", "converted", "rate"] : ["arm", "entered"];
    for (const title of columns) head.append(el("th", { scope: "col" }, t(`arms.${title}`)));
    const body = table.createTBody();
    for (const arm of ARMS) {
      const row = el("tr", { class: "arm", "data-arm": arm });
      row.append(el("th", { scope: "row" }, t(`arm.${arm}`)), el("td", { class: "entered" }, String(j.results.entered[arm] || 0)));
      if (goal) row.append(el("td", { class: "converted" }, String(goal[arm].converted)), el("td", { class: "rate" }, percent(goal[arm].rate)));
      body.append(row);
    }
    const holder = el("div", { class: "outcome-of" });
    holder.append(table);
    if (goal) {
      const u = goal.uplift;
      let text = t("uplift.none");
      if (u) {
        const relative = u.relative == null ? "" : t("uplift.relative", { n: signed(100 * u.relative, 0) });
        text = t("uplift.is", { absolute: points(u.absolute), low: points(u.ci95[0]), high: points(u.ci95[1]), relative });
      }
      holder.append(el("p", { class: "uplift" }, text));
    }
    const exits = Object.entries(j.results.exits).map(([reason, n]) => `${reason} ${n}`);
    holder.append(el("p", { class: "exits" }, t("exits", { list: exits.join(", ") || t("exits.none") })));
    return holder;
  }

  function setJourneyActive(journeyId, active, button) {
    const path = `/v1/journeys/${encodeURIComponent(journeyId)}`;
    return change(button, "journey-error", journeyId, async () => {
      // Read it afresh and write it back whole with only `active` changed: the document is the same, so
      // notify makes no new version and the devices in it walk on as they were.
      const journey = await api("GET", path);
      const { journey_id, version, created_at, updated_at, ended_at, ...document } = journey;
      const saved = await api("PUT", path, { ...document, active });
      return saved.version === version ? null : t("journey.newVersion", { id: journeyId, version: saved.version, old: version });
    });
  }

  function journeyCard(j) {
    const card = el("article", { class: "journey", "data-journey": j.journey_id });
    const title = el("h3", {}, j.name);
    title.append(" ", el("span", { class: "where" }, t("journey.version", { id: j.journey_id, version: j.version })), " ", el("span", { class: `status ${j.status}` }, t(`status.${j.status}`)));
    card.append(title);
    if (j.status !== "ended") {
      const pause = j.status === "active";
      const button = el("button", { type: "button", class: pause ? "pause" : "resume", "aria-label": t(pause ? "pause.named" : "resume.named", { name: j.name }) }, t(pause ? "pause" : "resume"));
      button.addEventListener("click", () => setJourneyActive(j.journey_id, !pause, button));
      const dry = el("button", { type: "button", class: "dry-run", "aria-label": t("dryRun.named", { name: j.name }) }, t("dryRun"));
      dry.addEventListener("click", () => import("/console/dry-run.js").then((m) => m.dryRunJourney(j.journey_id, api, dry)));
      card.append(button, dry);
      if (mayAuthor()) {
        const edit = el("button", { type: "button", class: "edit", "aria-label": t("journeyEditor.editNamed", { name: j.name }) }, t("campaignEditor.edit"));
        edit.addEventListener("click", () =>
          api("GET", `/v1/journeys/${encodeURIComponent(j.journey_id)}`)
            .then((journey) => journeyEditor.open(journey))
            .catch((error) => ($("journey-error").textContent = error.message)),
        );
        card.append(edit);
      }
    }
    card.append(el("p", { class: "entry" }, entryText(j)), stepsTable(j), armsTable(j));
    return card;
  }

  function showJourneys(journeys) {
    $("journeys").replaceChildren(...journeys.map(journeyCard));
    $("no-journeys").hidden = journeys.length > 0;
  }

  // --- decisions ---

  function showDecisions(decisions) {
    const body = $("decisions").tBodies[0];
    body.replaceChildren();
    for (const d of decisions) {
      const row = el("tr", { "data-message": String(d.message_id) });
      row.append(
        el("td", {}, new Date(d.decided_at).toLocaleTimeString(lang())),
        el("td", {}, d.purpose),
        el("td", { class: `outcome ${d.status}` }, d.status),
        el("td", { class: "reason" }, d.reason || ""),
        el("td", {}, d.campaign_id || (d.journey_id ? `${d.journey_id} · ${d.journey_step}` : "")),
        el("td", {}, [d.store_id, d.zone_id].filter(Boolean).join(" / ")),
        el("td", {}, d.sku || ""),
      );
      body.append(row);
    }
    $("decisions").hidden = decisions.length === 0;
    $("no-decisions").hidden = decisions.length > 0;
  }

  // --- the loop ---

  function show(overview) {
    $("unavailable").replaceChildren(...overview.unavailable.map((u) => el("li", { "data-service": u.service }, t("unavailable", { service: u.service, detail: u.detail }))));
    showStores(overview.stores);
    campaignEditor.setStores(overview.stores);
    showCampaigns(overview.campaigns);
    journeyEditor.setStores(overview.stores);
    $("new-journey").hidden = !mayAuthor();
    showJourneys(overview.journeys);
    showDecisions(overview.decisions);
    polls += 1;
    document.body.dataset.polls = String(polls);
  }

  async function refresh() {
    if (!readsOverview()) return;
    const mine = ++asked;
    const overview = await api("GET", "/v1/console/overview");
    if (mine !== asked) return; // a later request is on its way: an older answer must not undo it
    show(overview);
    $("live").textContent = t("live.on", { time: new Date(overview.at).toLocaleTimeString(lang()) });
    $("live").className = "live on";
  }

  async function poll() {
    clearTimeout(timer);
    try {
      await refresh();
    } catch (error) {
      if (error.status === 401 || error.status === 403) return signOut(tokenRefused());
      $("live").textContent = t("live.reconnecting");
      $("live").className = "live stale";
    }
    if (token) timer = setTimeout(poll, POLL_MS);
  }

  const tokenRefused = () => hooks.ended || t("signin.refused");

  function signOut(message) {
    clearTimeout(timer);
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    drawn.clear();
    editor.close();
    journeyEditor.close();
    $("stores").replaceChildren();
    $("console").hidden = true;
    $("signout").hidden = true;
    $("live").textContent = t("live.offline");
    $("live").className = "live";
    document.dispatchEvent(new CustomEvent("console:signed-out")); // the sections in modules of their own
    if (hooks.signedOut) return hooks.signedOut(message || "");
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
  }

  async function signIn(candidate, { keep = true, refused = t("signin.notAdmin"), as = "admin", stores: managed = [] } = {}) {
    token = candidate;
    role = as;
    await loadConfig(); // where geo and inventory answer, and the map's tiles
    for (const id of OVERVIEW_SECTIONS) $(id).closest("section").hidden = !readsOverview();
    try {
      if (readsOverview()) show(await api("GET", "/v1/console/overview"));
    } catch (error) {
      const denied = error.status === 401 || error.status === 403;
      signOut(denied ? refused : t("signin.cannotLoad", { error: error.message }));
      return;
    }
    if (keep) sessionStorage.setItem(TOKEN_KEY, candidate); // kept only once notify accepted it
    $("signin").hidden = true;
    $("signin-error").textContent = "";
    $("console").hidden = false;
    $("signout").hidden = false;
    const refusedNow = () => signOut(tokenRefused());
    const detail = { api, token: () => token, role, stores: managed, refused: refusedNow };
    document.dispatchEvent(new CustomEvent("console:signed-in", { detail }));
    if (readsOverview()) poll();
  }

  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    $("token").value = "";
    if (value) signIn(value);
  });
  $("signout").addEventListener("click", () => signOut());
  $("new-campaign").addEventListener("click", () => campaignEditor.open());
  $("new-journey").addEventListener("click", () => journeyEditor.open());

  // Another language: the page's texts at once, what the polls drew redrawn (the editor reopened empty).
  const language = $("language");
  for (const [code, name] of Object.entries(LANGUAGES)) language.append(el("option", { value: code, lang: code }, name));
  language.value = lang();
  language.addEventListener("change", () => {
    choose(language.value);
    $("signin-error").textContent = "";
    if (!token) return signOut();
    const open = editor.store && !$("zone-editor").hidden ? editor.store.store_id : null;
    drawn.clear();
    refresh()
      .then(() => {
        const store = stores.find((s) => s.store_id === open);
        if (store) editor.open(store, stores);
      })
      .catch(() => {});
  });
  // Tiles the browser cannot fetch: every store redrawn plainly, at the same coordinates.
  whenTilesFail(() => {
    drawn.clear();
    if (token) refresh().catch(() => {});
  });

  translatePage();
  // sign_on.js decides how the console signs in: through the retailer's provider when notify offers
  // it (a session, its short-lived token renewed), else with the admin token (`start`).
  window.accueilConsole = {
    start() {
      const kept = sessionStorage.getItem(TOKEN_KEY);
      if (kept) signIn(kept);
      else signOut();
    },
    signIn,
    signOut,
    renew(fresh) {
      if (token) token = fresh;
    },
    use(given) {
      hooks = given;
    },
  };
})();
