// The operator's console: stores and zones drawn to scale, devices per zone now, campaigns with
// their funnels (pause / resume), journeys with their steps, live counts and uplift (pause / resume),
// the latest decisions. No framework and no build step: it is served
// by notify and talks to notify only, which gathers what geo and inventory hold.
"use strict";

(() => {
  const TOKEN_KEY = "accueil.adminToken"; // sessionStorage: forgotten when the tab closes
  const POLL_MS = 3000; // counts are polled: a few seconds late at most, and one request per poll
  const EARTH_M = 6371008.8; // mean radius: metres per radian
  const SVG = "http://www.w3.org/2000/svg";
  const DRAW_ORDER = { approach: 0, store: 1, department: 2, pickup: 3 }; // small zones drawn on top
  const FUNNEL = ["decided", "sent", "shown", "clicked", "orders"];
  const ARMS = ["treatment", "control"];
  const DURATION_UNITS = ["wk", "d", "h", "min", "s"]; // in the order ISO 8601 writes them: W D T H M S

  const $ = (id) => document.getElementById(id);
  const drawn = new Map(); // store_id -> the shapes it was drawn from (redrawn only when they change)
  const wide = new Set(); // stores shown with their approach zones whole
  let token = null;
  let hooks = {}; // set by sign_on.js when operators sign in with the retailer's provider
  let timer = null;
  let polls = 0;
  let asked = 0; // overview requests sent so far

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
      "aria-label": `zones of ${store.name}, to scale`,
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
      b.append(svg("title", {}, `beacon ${beacon.beacon_id}, marks ${zone.zone_id}`));
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
    card.append(title, drawMap(store, wide.has(store.store_id)));
    if (store.zones.some((z) => z.kind === "approach")) {
      const toggle = el("button", { type: "button", class: "wide" }, wide.has(store.store_id) ? "Show the store" : "Show the approach");
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
        el("span", { class: "zone-name" }, `${zone.name || zone.zone_id} (${zone.kind})`),
        el("span", { class: "count", "data-zone": zone.zone_id }),
      );
      list.append(item);
    }
    card.append(list);
    return card;
  }

  function showStores(stores) {
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

  function triggerText(t) {
    const where = [t.store_id && `store ${t.store_id}`, t.zone_id && `zone ${t.zone_id}`, t.zone_kind && `a ${t.zone_kind} zone`];
    const text = `${t.type} · ${where.filter(Boolean).join(", ") || "any zone"}`;
    return t.min_confidence != null ? `${text} · confidence ≥ ${t.min_confidence}` : text;
  }

  function scheduleText(s) {
    if (!s) return "always";
    const parts = [];
    if (s.starts_at) parts.push(`from ${new Date(s.starts_at).toLocaleString()}`);
    if (s.ends_at) parts.push(`until ${new Date(s.ends_at).toLocaleString()}`);
    for (const h of s.hours || []) parts.push(`${h.days.join(" ")} ${h.from}–${h.to}`);
    return parts.join("; ") || "always";
  }

  function funnel(results) {
    const box = el("div", { class: "funnel", "data-campaign": results.campaign_id });
    const top = Math.max(results.decided, 1);
    for (const step of FUNNEL) {
      const bar = el("div", { class: `bar ${step}` });
      bar.style.width = `${(100 * results[step]) / top}%`; // CSSOM, allowed under the page's CSP
      const track = el("div");
      track.append(bar);
      box.append(el("span", {}, step), track, el("span", { class: "n", "data-step": step }, String(results[step])));
    }
    const holder = el("div");
    holder.append(box);
    const reasons = Object.entries(results.suppressed || {});
    if (reasons.length) holder.append(el("div", { class: "suppressed" }, `suppressed: ${reasons.map(([r, n]) => `${r} ${n}`).join(", ")}`));
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
      $(errorId).textContent = `Could not change ${what}: ${error.message}`;
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
        const pause = c.status === "active";
        const button = el("button", { type: "button", class: pause ? "pause" : "resume" }, pause ? "Pause" : "Resume");
        button.addEventListener("click", () => setActive(c.campaign_id, !pause, button));
        action.append(button);
      }
      const results = el("td");
      results.append(funnel(c.results));
      row.append(
        el("td", {}, c.campaign_id),
        el("td", {}, triggerText(c.trigger)),
        el("td", {}, c.product ? `${c.product} (${c.sku})` : c.sku),
        el("td", { class: `status ${c.status}` }, c.status),
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
    const parts = DURATION_UNITS.map((unit, i) => match[i + 1] && `${Number(match[i + 1])} ${unit}`);
    return parts.filter(Boolean).join(" ") || iso;
  }

  function zoneText(z) {
    if (z.zone_id && z.zone_kind) return `zone ${z.zone_id} (${z.zone_kind})`;
    return z.zone_id ? `zone ${z.zone_id}` : z.zone_kind ? `a ${z.zone_kind} zone` : "any zone";
  }

  function entryText(j) {
    const e = j.entry;
    const where = [e.store_id && `store ${e.store_id}`, (e.zone_id || e.zone_kind) && zoneText(e), e.sku && `an order with ${e.sku}`];
    const parts = [`enters on ${e.event}${where.some(Boolean) ? ` · ${where.filter(Boolean).join(", ")}` : ""}`];
    parts.push(`control arm ${j.holdout_percent}%`);
    if (j.goal) parts.push(`goal: ${j.goal.event}${j.goal.sku ? ` with ${j.goal.sku}` : ""} within ${durationText(j.goal.within)}`);
    if (j.exit_on.length) parts.push(`leaves on ${j.exit_on.join(", ")}`);
    return parts.join(" · ");
  }

  function conditionText(c) {
    if (c.in_zone) return `in ${zoneText(c.in_zone)} now`;
    if (c.in_stock) return `${c.in_stock} in stock there now`;
    if (c.consent) return `consents to ${c.consent}`;
    if (c.had_event) return `had ${c.had_event} since entering`;
    return JSON.stringify(c);
  }

  const then = (next) => `→ ${next || "done"}`; // a step with no next ends the journey, completed

  // What a step does, in one line: its type's gist and where it leads.
  function stepText(s) {
    switch (s.type) {
      case "wait":
        return `wait ${durationText(s.for)} ${then(s.next)}`;
      case "wait_for":
        return `wait up to ${durationText(s.timeout)} for ${s.event} ${then(s.next)}; if it does not come ${then(s.timeout_next)}`;
      case "branch":
        return `if ${conditionText(s.if)} ${then(s.then)}; else ${then(s.else)}`;
      case "message": {
        const texts = s.message.en || Object.values(s.message)[0];
        return `message · ${s.purpose}${s.sku ? ` · ${s.sku}` : ""} · “${texts.title}” ${then(s.next)}`;
      }
      case "exit":
        return "exit";
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
    for (const title of ["Step", "What it does", "Now", "Reached", "Sent", "Suppressed"]) head.append(el("th", { scope: "col" }, title));
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
    const columns = goal ? ["Arm", "Entered", "Converted", "Rate"] : ["Arm", "Entered"];
    for (const title of columns) head.append(el("th", { scope: "col" }, title));
    const body = table.createTBody();
    for (const arm of ARMS) {
      const row = el("tr", { class: "arm", "data-arm": arm });
      row.append(el("th", { scope: "row" }, arm), el("td", { class: "entered" }, String(j.results.entered[arm] || 0)));
      if (goal) row.append(el("td", { class: "converted" }, String(goal[arm].converted)), el("td", { class: "rate" }, percent(goal[arm].rate)));
      body.append(row);
    }
    const holder = el("div", { class: "outcome-of" });
    holder.append(table);
    if (goal) {
      const u = goal.uplift;
      let text = "uplift: not enough data (an arm nobody entered yet)";
      if (u) {
        const relative = u.relative == null ? "" : `, ${signed(100 * u.relative, 0)}% relative`;
        text = `uplift ${points(u.absolute)} points (95% interval ${points(u.ci95[0])} to ${points(u.ci95[1])}${relative})`;
      }
      holder.append(el("p", { class: "uplift" }, text));
    }
    const exits = Object.entries(j.results.exits).map(([reason, n]) => `${reason} ${n}`);
    holder.append(el("p", { class: "exits" }, `left: ${exits.join(", ") || "nobody yet"}`));
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
      return saved.version === version ? null : `${journeyId} became version ${saved.version} (it was ${version})`;
    });
  }

  function journeyCard(j) {
    const card = el("article", { class: "journey", "data-journey": j.journey_id });
    const title = el("h3", {}, j.name);
    title.append(" ", el("span", { class: "where" }, `${j.journey_id} · version ${j.version}`), " ", el("span", { class: `status ${j.status}` }, j.status));
    card.append(title);
    if (j.status !== "ended") {
      const pause = j.status === "active";
      const button = el("button", { type: "button", class: pause ? "pause" : "resume", "aria-label": `${pause ? "Pause" : "Resume"} ${j.name}` }, pause ? "Pause" : "Resume");
      button.addEventListener("click", () => setJourneyActive(j.journey_id, !pause, button));
      card.append(button);
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
        el("td", {}, new Date(d.decided_at).toLocaleTimeString()),
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
    $("unavailable").replaceChildren(...overview.unavailable.map((u) => el("li", { "data-service": u.service }, `${u.service} is not answering: ${u.detail}`)));
    showStores(overview.stores);
    showCampaigns(overview.campaigns);
    showJourneys(overview.journeys);
    showDecisions(overview.decisions);
    polls += 1;
    document.body.dataset.polls = String(polls);
  }

  async function refresh() {
    const mine = ++asked;
    const overview = await api("GET", "/v1/console/overview");
    if (mine !== asked) return; // a later request is on its way: an older answer must not undo it
    show(overview);
    $("live").textContent = `live · ${new Date(overview.at).toLocaleTimeString()}`;
    $("live").className = "live on";
  }

  async function poll() {
    clearTimeout(timer);
    try {
      await refresh();
    } catch (error) {
      if (error.status === 401 || error.status === 403) return signOut(tokenRefused());
      $("live").textContent = "reconnecting…";
      $("live").className = "live stale";
    }
    if (token) timer = setTimeout(poll, POLL_MS);
  }

  const tokenRefused = () => hooks.ended || "The admin token is no longer accepted: sign in again.";

  function signOut(message) {
    clearTimeout(timer);
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    drawn.clear();
    $("stores").replaceChildren();
    $("console").hidden = true;
    $("signout").hidden = true;
    $("live").textContent = "offline";
    $("live").className = "live";
    if (hooks.signedOut) return hooks.signedOut(message || "");
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
  }

  async function signIn(candidate, { keep = true, refused = "This is not the admin token." } = {}) {
    token = candidate;
    try {
      show(await api("GET", "/v1/console/overview"));
    } catch (error) {
      const denied = error.status === 401 || error.status === 403;
      signOut(denied ? refused : `The console could not load: ${error.message}`);
      return;
    }
    if (keep) sessionStorage.setItem(TOKEN_KEY, candidate); // kept only once notify accepted it
    $("signin").hidden = true;
    $("signin-error").textContent = "";
    $("console").hidden = false;
    $("signout").hidden = false;
    poll();
  }

  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    $("token").value = "";
    if (value) signIn(value);
  });
  $("signout").addEventListener("click", () => signOut());

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
