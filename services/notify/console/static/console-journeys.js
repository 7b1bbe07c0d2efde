// The journey editor: the entry, the control group's share, the goal, and the steps as an ordered list
// to add to, remove from, reorder and edit, each step with its type's fields (a message step with its
// product picked from the catalogue, its French and English texts and the phone preview the campaigns
// have). Saved with PUT /v1/journeys/{id}, whose validation is the only one: a 422 is shown next to the
// input its `field` names. A draft can be dry-run over the stored history, and a saved journey shows
// the devices at each step beside it, refreshed while the editor is open.
import { lang, t } from "./console-i18n.js";
import { el, field } from "./console-map.js";
import { LOCALES, PhonePreview } from "./console-preview.js";
import { ProductPicker, lookUp } from "./console-products.js";
import { sentence } from "./dry-run.js";

const POLL_MS = 3000; // as the rest of the console: a count is a few seconds late at most
const DRY_RUN_DAYS = 7;
const STEP_TYPES = ["message", "wait", "wait_for", "branch", "exit"];
const EVENTS = ["zone.entered", "zone.dwelled", "zone.exited", "trip.approaching", "trip.arrived", "order.reserved", "order.ready", "order.collected"];
const PURPOSES = ["offers", "pickup_updates", "back_in_stock", "product_tips"];
const CONSENTS = ["location", "offers", "pickup_updates", "back_in_stock", "product_tips"];
const KINDS = ["store", "department", "pickup", "approach"];
const CONDITIONS = ["in_zone", "in_stock", "consent", "had_event"];
// A duration is written as a number and a unit; the ISO 8601 form the API takes is made from them.
const UNITS = [
  ["s", 1, (n) => `PT${n}S`],
  ["min", 60, (n) => `PT${n}M`],
  ["h", 3600, (n) => `PT${n}H`],
  ["d", 86400, (n) => `P${n}D`],
  ["wk", 604800, (n) => `P${n}W`],
];
const FRESH_CONDITION = {
  in_zone: () => ({ in_zone: { zone_kind: "department" } }),
  in_stock: () => ({ in_stock: "" }),
  consent: () => ({ consent: "offers" }),
  had_event: () => ({ had_event: "order.reserved" }),
};
const LINKS = ["next", "timeout_next", "then", "else"]; // where a step leads, by the id of another
const BELOW = ":below"; // a step's `next` chosen as "the step below it", whatever its id becomes

function seconds(iso) {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso || "");
  if (!m) return null;
  return [604800, 86400, 3600, 60, 1].reduce((sum, unit, i) => sum + unit * Number(m[i + 1] || 0), 0);
}

// A duration as [number, unit]: the largest unit it is a whole number of.
export function split(iso) {
  const total = seconds(iso);
  if (!total) return ["", "min"];
  const [unit, size] = [...UNITS].reverse().find(([, size]) => total % size === 0);
  return [String(total / size), unit];
}

// [number, unit] as ISO 8601; `kept`, the duration as it was loaded, when it says the same (a journey
// saved again unchanged keeps its document, hence its version).
export function iso(number, unit, kept) {
  const [, size, write] = UNITS.find(([name]) => name === unit);
  const text = String(number).trim();
  if (kept && /^\d+$/.test(text) && seconds(kept) === Number(text) * size) return kept;
  return write(text);
}

// The API's `field` in one spelling: "steps[1].if.in_zone.zone_id".
const normal = (path) => (path || "").replace(/\.(\d+)(?=\.|$)/g, "[$1]");

function options(select, values, label) {
  for (const value of values) select.append(el("option", { value }, label(value)));
  return select;
}

let counter = 0;

export class JourneyEditor {
  // `api(method, path, body)`: notify's API with the console's token; `token()`: that token, for
  // inventory's catalogue; `saved(id)`: the console refreshes after a save.
  constructor(holder, api, token, saved) {
    Object.assign(this, { holder, api, token, saved, stores: [], timer: null, journey: null, polls: 0 });
  }

  setStores(stores) {
    this.stores = stores;
  }

  close() {
    clearTimeout(this.timer);
    this.polls += 1; // an answer on its way is dropped
    this.holder.hidden = true;
    this.holder.replaceChildren();
  }

  // Opens the editor, empty or with `journey` (as GET /v1/journeys/{id} answers it).
  open(journey = null) {
    this.close();
    this.journey = journey;
    this.holder.hidden = false;
    const form = el("form", { class: "journey-form", novalidate: "" });
    const inputs = {};
    const settings = el("div", { class: "journey-settings" });
    form.append(settings);
    const text = (name, label, attrs = {}) => field(settings, name, label, el("input", { name, autocomplete: "off", spellcheck: "false", ...attrs }));
    inputs.journey_id = text("journey_id", "journeyEditor.id");
    inputs.name = text("name", "journeyEditor.name");
    inputs["entry.event"] = options(field(settings, "entry.event", "journeyEditor.entry", el("select", { name: "entry.event" })), EVENTS, (e) => e);
    inputs["entry.store_id"] = field(settings, "entry.store_id", "campaignEditor.store", el("select", { name: "entry.store_id" }));
    inputs["entry.zone_kind"] = options(field(settings, "entry.zone_kind", "campaignEditor.zoneKind", el("select", { name: "entry.zone_kind" })), ["", ...KINDS], (k) => (k ? t(`kind.${k}`) : t("campaignEditor.anyKind")));
    inputs["entry.zone_id"] = text("entry.zone_id", "journeyEditor.zoneId");
    inputs["entry.sku"] = text("entry.sku", "journeyEditor.entrySku");
    inputs.holdout_percent = text("holdout_percent", "journeyEditor.holdout", { type: "number", min: "0", max: "50", step: "1" });
    inputs.reentry = text("reentry", "journeyEditor.reentry");
    inputs["goal.event"] = options(field(settings, "goal.event", "journeyEditor.goal", el("select", { name: "goal.event" })), ["", ...EVENTS], (e) => e || t("journeyEditor.noGoal"));
    inputs["goal.within"] = text("goal.within", "journeyEditor.goalWithin");
    inputs["goal.sku"] = text("goal.sku", "journeyEditor.goalSku");
    inputs.active = field(settings, "active", "campaignEditor.active", el("input", { name: "active", type: "checkbox" }));

    const steps = el("ol", { class: "journey-steps", "aria-label": t("journeyEditor.steps") });
    const add = el("p", { class: "add-step" });
    const addType = options(el("select", { name: "add_type", "aria-label": t("journeyEditor.addType") }), STEP_TYPES, (s) => t(`journeyEditor.type.${s}`));
    const addButton = el("button", { type: "button", class: "add" }, t("journeyEditor.addStep"));
    add.append(addType, addButton);
    form.append(el("h4", {}, t("journeyEditor.steps")), el("p", { class: "error", "data-error-for": "steps", role: "alert" }), steps, add);

    const actions = el("p", { class: "actions" });
    const save = el("button", { type: "submit", class: "save" }, t("journeyEditor.save"));
    const dry = el("button", { type: "button", class: "dry-run" }, t("journeyEditor.dryRun"));
    const close = el("button", { type: "button", class: "close" }, t("editor.close"));
    actions.append(save, dry, close);
    const versionNote = el("p", { class: "hint version-note" }, journey ? t("journeyEditor.newVersionNote", { version: journey.version, next: journey.version + 1 }) : "");
    form.append(versionNote, actions, el("p", { class: "error", "data-error-for": "form", role: "alert" }), el("p", { class: "saved hint", role: "status" }), el("p", { class: "dry-run-result hint", role: "status" }));
    const title = journey ? t("journeyEditor.editTitle", { id: journey.journey_id, version: journey.version }) : t("journeyEditor.newTitle");
    this.holder.append(el("h3", {}, title), form);
    // A message step's product as the catalogue has it, and its preview: kept beside the step, which
    // is the document the API takes.
    Object.assign(this, { form, inputs, list: steps, steps: [], results: null, products: new WeakMap(), previews: new WeakMap() });

    this.fillStores(journey?.entry.store_id || "");
    if (journey) this.load(journey);
    else {
      inputs.active.checked = true;
      inputs.reentry.value = "never";
      inputs.holdout_percent.value = "0";
      this.schedule = null;
      this.exitOn = [];
      this.steps = [this.blank("message")];
    }
    this.render();
    addButton.addEventListener("click", () => {
      this.steps.push(this.blank(addType.value));
      this.render();
      this.list.lastElementChild.querySelector("input, select")?.focus();
    });
    close.addEventListener("click", () => this.close());
    dry.addEventListener("click", () => this.dryRun(dry));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save(save);
    });
    if (journey) this.poll();
    inputs[journey ? "name" : "journey_id"].focus();
  }

  fillStores(chosen) {
    const select = this.inputs["entry.store_id"];
    select.replaceChildren(el("option", { value: "" }, t("campaignEditor.anyStore")));
    for (const s of this.stores) select.append(el("option", { value: s.store_id }, s.name));
    if (chosen && !this.stores.some((s) => s.store_id === chosen)) select.append(el("option", { value: chosen }, chosen));
    select.value = chosen;
  }

  load(j) {
    const i = this.inputs;
    i.journey_id.value = j.journey_id;
    i.journey_id.readOnly = true;
    i.name.value = j.name;
    for (const key of ["event", "zone_kind", "zone_id", "sku"]) i[`entry.${key}`].value = j.entry[key] || "";
    i.holdout_percent.value = String(j.holdout_percent);
    i.reentry.value = j.reentry;
    i["goal.event"].value = j.goal?.event || "";
    i["goal.within"].value = j.goal?.within || "";
    i["goal.sku"].value = j.goal?.sku || "";
    i.active.checked = j.active;
    this.schedule = j.schedule || null; // kept as they are: edited through the API
    this.exitOn = j.exit_on || [];
    this.steps = j.steps.map((s, n) => {
      const step = structuredClone(s);
      for (const key of LINKS) {
        if (step[key] && step[key] === j.steps[n + 1]?.id) step[key] = BELOW;
        else if (!step[key]) step[key] = "";
      }
      return step;
    });
    for (const step of this.steps) if (step.type === "message" && step.sku) this.name(step);
  }

  // The catalogue's product for a loaded message step, its preview redrawn with the product's name.
  async name(step) {
    const product = await lookUp(step.sku, this.token());
    if (!product || product.sku !== step.sku || this.products.has(step)) return; // retyped, or picked meanwhile
    this.products.set(step, product);
    this.previews.get(step)?.render();
  }

  // A new step of `type`, with an id no other step has.
  blank(type) {
    let id;
    do id = `${type.replace("_", "-")}-${++counter}`;
    while (this.steps.some((s) => s.id === id));
    const step = { id, type };
    if (type === "message") Object.assign(step, { purpose: "offers", sku: "", message: { fr: { title: "", body: "" }, en: { title: "", body: "" } }, next: BELOW });
    if (type === "wait") Object.assign(step, { for: "PT10M", next: BELOW });
    if (type === "wait_for") Object.assign(step, { event: "order.reserved", timeout: "PT30M", next: BELOW, timeout_next: "" });
    if (type === "branch") Object.assign(step, { if: FRESH_CONDITION.in_zone(), then: BELOW, else: "" });
    return step;
  }

  // --- the steps, drawn from `this.steps`; a change of structure redraws them ---

  render() {
    this.list.replaceChildren(...this.steps.map((step, n) => this.stepItem(step, n)));
    this.showCounts();
  }

  stepItem(step, n) {
    const item = el("li", { class: `journey-step type-${step.type}`, "data-step": step.id, "data-index": String(n) });
    const path = `steps[${n}]`;
    const head = el("div", { class: "step-head" });
    const type = options(el("select", { name: `${path}.type`, "aria-label": t("journeyEditor.type") }), STEP_TYPES, (s) => t(`journeyEditor.type.${s}`));
    type.value = step.type;
    type.addEventListener("change", () => {
      const fresh = this.blank(type.value);
      this.steps[n] = { ...fresh, id: step.id };
      this.render();
    });
    const id = el("input", { name: `${path}.id`, value: step.id, "aria-label": t("journeyEditor.stepId"), autocomplete: "off", spellcheck: "false" });
    id.addEventListener("change", () => this.rename(step, id.value.trim()));
    const up = el("button", { type: "button", class: "up", "aria-label": t("journeyEditor.up"), title: t("journeyEditor.up") }, "↑");
    const down = el("button", { type: "button", class: "down", "aria-label": t("journeyEditor.down"), title: t("journeyEditor.down") }, "↓");
    const remove = el("button", { type: "button", class: "remove", "aria-label": t("journeyEditor.remove"), title: t("journeyEditor.remove") }, "✕");
    up.disabled = n === 0;
    down.disabled = n === this.steps.length - 1;
    up.addEventListener("click", () => this.move(n, -1));
    down.addEventListener("click", () => this.move(n, 1));
    remove.addEventListener("click", () => {
      this.steps.splice(n, 1);
      this.render();
    });
    head.append(el("span", { class: "step-number" }, `${n + 1}.`), type, id, up, down, remove, el("span", { class: "step-counts", "aria-live": "polite" }));
    item.append(head, el("span", { class: "error", "data-error-for": path, role: "alert" }), el("span", { class: "error", "data-error-for": `${path}.id`, role: "alert" }));
    const body = el("div", { class: "step-fields" });
    item.append(body);
    const put = (key, label, control, write) => {
      control.name = `${path}.${key}`;
      control.addEventListener(control.tagName === "SELECT" ? "change" : "input", () => write(control));
      return field(body, `${path}.${key}`, label, control);
    };
    const duration = (key, label) => {
      const [number, unit] = split(step[key]);
      const kept = step[key];
      const amount = el("input", { type: "number", step: "1", value: number, name: `${path}.${key}`, "aria-label": t(label) });
      const units = options(el("select", { name: `${path}.${key}.unit`, "aria-label": t("journeyEditor.unit") }), UNITS.map(([u]) => u), (u) => t(`unit.${u}`));
      units.value = unit;
      const write = () => (step[key] = iso(amount.value, units.value, kept));
      amount.addEventListener("input", write);
      units.addEventListener("change", write);
      const row = el("label", { class: "field duration" });
      row.append(el("span", {}, t(label)), el("span", { class: "amount" }), el("span", { class: "error", "data-error-for": `${path}.${key}`, role: "alert" }));
      row.children[1].append(amount, units);
      body.append(row);
    };
    const target = (key, label) => {
      const select = el("select");
      this.targets(select, step);
      select.value = step[key] || "";
      put(key, label, select, (c) => (step[key] = c.value));
    };
    const event = (key, label) => {
      const select = options(el("select"), EVENTS, (e) => e);
      select.value = step[key];
      put(key, label, select, (c) => (step[key] = c.value));
    };
    if (step.type === "message") {
      const purpose = options(el("select"), PURPOSES, (p) => p);
      purpose.value = step.purpose;
      put("purpose", "journeyEditor.purpose", purpose, (c) => (step.purpose = c.value));
      const phone = new PhonePreview(() => step.message, () => this.products.get(step));
      this.previews.set(step, phone);
      const sku = put("sku", "campaignEditor.product", el("input", { value: step.sku || "" }), (c) => (step.sku = c.value.trim()));
      const picker = new ProductPicker(sku, this.token, (product) => {
        if (product) this.products.set(step, product);
        else this.products.delete(step);
        step.sku = sku.value.trim();
        phone.render();
      });
      body.append(picker.list);
      for (const locale of LOCALES) {
        step.message[locale] ||= { title: "", body: "" };
        for (const part of ["title", "body"]) {
          const control = part === "title" ? el("input", { maxlength: "500", value: step.message[locale].title }) : el("textarea", { rows: "2", maxlength: "500" }, step.message[locale].body);
          put(`message.${locale}.${part}`, `campaignEditor.${part}.${locale}`, control, (c) => {
            step.message[locale][part] = c.value;
            phone.render();
          });
        }
      }
      body.append(el("span", { class: "error", "data-error-for": `${path}.message`, role: "alert" }));
      phone.render();
      item.append(phone.side);
      target("next", "journeyEditor.next");
    } else if (step.type === "wait") {
      duration("for", "journeyEditor.for");
      target("next", "journeyEditor.next");
    } else if (step.type === "wait_for") {
      event("event", "journeyEditor.event");
      duration("timeout", "journeyEditor.timeout");
      target("next", "journeyEditor.ifCame");
      target("timeout_next", "journeyEditor.ifNot");
    } else if (step.type === "branch") {
      const kind = CONDITIONS.find((c) => step.if[c] != null) || "in_zone";
      const which = options(el("select"), CONDITIONS, (c) => t(`journeyEditor.if.${c}`));
      which.value = kind;
      which.addEventListener("change", () => {
        step.if = FRESH_CONDITION[which.value]();
        this.render();
      });
      which.name = `${path}.if`;
      field(body, `${path}.if`, "journeyEditor.if", which);
      if (kind === "in_zone") {
        const zone = step.if.in_zone;
        const zoneKind = options(el("select"), ["", ...KINDS], (k) => (k ? t(`kind.${k}`) : t("campaignEditor.anyKind")));
        zoneKind.value = zone.zone_kind || "";
        put("if.in_zone.zone_kind", "campaignEditor.zoneKind", zoneKind, (c) => (zone.zone_kind = c.value || null));
        put("if.in_zone.zone_id", "journeyEditor.zoneId", el("input", { value: zone.zone_id || "", autocomplete: "off" }), (c) => (zone.zone_id = c.value.trim() || null));
      } else if (kind === "in_stock") {
        put("if.in_stock", "campaignEditor.product", el("input", { value: step.if.in_stock || "", autocomplete: "off" }), (c) => (step.if.in_stock = c.value.trim()));
      } else if (kind === "consent") {
        const consent = options(el("select"), CONSENTS, (p) => p);
        consent.value = step.if.consent;
        put("if.consent", "journeyEditor.consent", consent, (c) => (step.if.consent = c.value));
      } else {
        const had = options(el("select"), EVENTS, (e) => e);
        had.value = step.if.had_event;
        put("if.had_event", "journeyEditor.event", had, (c) => (step.if.had_event = c.value));
      }
      target("then", "journeyEditor.then");
      target("else", "journeyEditor.else");
    }
    return item;
  }

  // Where a step may lead: the step below it, the journey's end, or any other step by its id.
  targets(select, step) {
    select.append(el("option", { value: BELOW }, t("journeyEditor.below")), el("option", { value: "" }, t("journeyEditor.end")));
    for (const other of this.steps) if (other !== step) select.append(el("option", { value: other.id }, other.id));
  }

  rename(step, id) {
    const old = step.id;
    step.id = id;
    for (const s of this.steps) for (const key of LINKS) if (old && s[key] === old) s[key] = id;
    this.render();
  }

  move(n, by) {
    const [step] = this.steps.splice(n, 1);
    this.steps.splice(n + by, 0, step);
    this.render();
  }

  // --- the document the API takes ---

  document() {
    const i = this.inputs;
    const entry = { event: i["entry.event"].value };
    for (const key of ["store_id", "zone_kind", "zone_id", "sku"]) if (i[`entry.${key}`].value.trim()) entry[key] = i[`entry.${key}`].value.trim();
    const holdout = i.holdout_percent.value.trim();
    const body = {
      name: i.name.value.trim(),
      active: i.active.checked,
      entry,
      reentry: i.reentry.value.trim() || "never",
      holdout_percent: holdout === "" ? 0 : Number(holdout),
      exit_on: this.exitOn,
      steps: this.steps.map((s, n) => this.stepDocument(s, n)),
    };
    if (i["goal.event"].value) {
      body.goal = { event: i["goal.event"].value, within: i["goal.within"].value.trim() };
      if (i["goal.sku"].value.trim()) body.goal.sku = i["goal.sku"].value.trim();
    }
    if (this.schedule) body.schedule = this.schedule;
    return body;
  }

  stepDocument(step, n) {
    const out = {};
    for (const [key, value] of Object.entries(step)) {
      if (LINKS.includes(key)) {
        const to = value === BELOW ? this.steps[n + 1]?.id : value;
        if (to) out[key] = to;
      } else if (key === "message") {
        out.message = {};
        for (const [locale, { title, body }] of Object.entries(value)) if (title.trim() || body.trim()) out.message[locale] = { title: title.trim(), body: body.trim() };
      } else if (key === "if") {
        const set = Object.entries(value).filter(([, v]) => v != null); // the API's answer names all four
        out.if = Object.fromEntries(set.map(([k, v]) => [k, typeof v === "object" ? Object.fromEntries(Object.entries(v).filter(([, x]) => x)) : v]));
      } else if (value !== "" && value != null) out[key] = value;
    }
    return out;
  }

  // --- what the API says ---

  // The slot of the input a 422 names: the path itself, else the nearest enclosing one that has a slot
  // ("steps[1].if.in_zone.zone_id" -> "steps[1].if" -> "steps[1]"). A message's locale is a key the
  // API's path leaves out ("message[...].title"): it is the locale whose text breaks the rule.
  slotFor(name) {
    let path = normal(name);
    const text = /^(steps\[(\d+)\]\.message)\[\.\.\.\]\.(title|body)$/.exec(path);
    if (text) {
      const step = this.steps[Number(text[2])];
      const locale = LOCALES.find((l) => {
        const value = (step?.message?.[l]?.[text[3]] || "").trim();
        const written = step?.message?.[l] && (step.message[l].title.trim() || step.message[l].body.trim());
        return (written && !value) || value.length > 500;
      });
      path = locale ? `${text[1]}.${locale}.${text[3]}` : text[1];
    }
    for (;;) {
      const slot = path && this.holder.querySelector(`[data-error-for="${CSS.escape(path)}"]`);
      if (slot) return slot;
      const shorter = path.replace(/(\.[^.[\]]+|\[[^\]]*\])$/, "");
      if (!path || shorter === path) return this.holder.querySelector('[data-error-for="form"]');
      path = shorter;
    }
  }

  clearMessages() {
    for (const node of this.holder.querySelectorAll("[data-error-for], .saved, .dry-run-result")) node.textContent = "";
  }

  async save(button) {
    this.clearMessages();
    const id = this.inputs.journey_id.value.trim();
    if (!id) {
      this.slotFor("journey_id").textContent = t("journeyEditor.idNeeded");
      return;
    }
    button.disabled = true;
    try {
      const saved = await this.api("PUT", `/v1/journeys/${encodeURIComponent(id)}`, this.document());
      const before = this.journey?.version;
      this.holder.querySelector(".saved").textContent =
        before && saved.version !== before ? t("journeyEditor.savedNewVersion", { id, version: saved.version, old: before }) : t("journeyEditor.savedAs", { id, version: saved.version });
      this.inputs.journey_id.readOnly = true;
      this.journey = saved;
      this.holder.querySelector(".version-note").textContent = t("journeyEditor.newVersionNote", { version: saved.version, next: saved.version + 1 });
      this.saved(id);
      this.poll();
    } catch (error) {
      this.slotFor(error.field).textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }

  // The draft as it stands, replayed over the last days: nothing is saved, sent or logged.
  async dryRun(button) {
    this.clearMessages();
    const id = this.inputs.journey_id.value.trim();
    const out = this.holder.querySelector(".dry-run-result");
    const name = this.inputs.name.value.trim() || id;
    out.textContent = t("dryRun.running", { name });
    button.disabled = true;
    try {
      const body = { ...this.document(), active: true, days: DRY_RUN_DAYS };
      if (id) body.journey_id = id;
      out.textContent = sentence(name, await this.api("POST", "/v1/journeys/dry-run", body));
    } catch (error) {
      out.textContent = "";
      this.slotFor(error.field).textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }

  // The saved journey's devices at each step now, what each step did (all time), beside the step of the
  // same id, until the editor closes.
  async poll() {
    clearTimeout(this.timer);
    const mine = ++this.polls; // one loop at a time: a save restarts it, closing ends it
    const { journey_id } = this.journey;
    try {
      const results = await this.api("GET", `/v1/journeys/${encodeURIComponent(journey_id)}/results`);
      if (mine !== this.polls) return;
      this.results = results;
      this.showCounts();
    } catch {
      if (mine !== this.polls) return; // kept as last shown; the next poll tries again
    }
    this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  showCounts() {
    const r = this.results;
    for (const item of this.list.children) {
      const slot = item.querySelector(".step-counts");
      const id = item.dataset.step;
      if (!r) {
        slot.replaceChildren();
        continue;
      }
      const counts = r.steps[id] || { reached: 0 };
      const parts = [
        ["now", r.now[id] || 0],
        ["reached", counts.reached],
      ];
      if (counts.sent != null) parts.push(["sent", counts.sent]);
      const suppressed = Object.values(counts.suppressed || {}).reduce((a, b) => a + b, 0);
      if (suppressed) parts.push(["suppressed", suppressed]);
      slot.replaceChildren(...parts.map(([key, n]) => el("span", { class: key, "data-n": String(n) }, `${t(`steps.${key}`)} ${n.toLocaleString(lang())}`)));
    }
  }
}
