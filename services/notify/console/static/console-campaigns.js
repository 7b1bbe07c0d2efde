// The campaign editor: trigger, product (the catalogue searched), the message in French and English
// with a live preview of the notification as a phone shows it, schedule; saved through notify's API,
// whose validation is the only one (a 422 is shown next to the field it names).
import { t } from "./console-i18n.js";
import { el, field } from "./console-map.js";
import { LOCALES, PhonePreview } from "./console-preview.js";
import { ProductPicker, lookUp } from "./console-products.js";

const KINDS = ["", "store", "department", "pickup", "approach"];

// Which input a 422's `field` names ("message.fr.title" -> "fr.title", "trigger.zone_id" -> "zone_id").
function inputOf(name) {
  if (!name) return "form";
  const parts = name.replace(/\[['"]?([^\]'"]+)['"]?\]/g, ".$1").split("."); // message['fr'].title too
  if (parts[0] === "message" && parts.length >= 2) return parts.slice(1, 3).join(".") || "form";
  if (parts[0] === "trigger") return parts[1] === "type" ? "type" : parts[1] || "type";
  if (parts[0] === "schedule") return parts[1] || "starts_at";
  return parts[0];
}

export class CampaignEditor {
  // `api(method, path, body)`: notify's API with the console's token; `token()`: that token, for
  // inventory's catalogue; `saved(id)`: the console refreshes after a save.
  constructor(holder, api, token, saved) {
    Object.assign(this, { holder, api, token, saved, stores: [], product: null });
  }

  setStores(stores) {
    this.stores = stores;
    if (this.inputs) this.fillStores();
  }

  fillStores() {
    const chosen = this.inputs.store_id.value;
    this.inputs.store_id.replaceChildren(el("option", { value: "" }, t("campaignEditor.anyStore")));
    for (const s of this.stores) this.inputs.store_id.append(el("option", { value: s.store_id }, s.name));
    this.inputs.store_id.value = chosen;
    this.fillZones();
  }

  fillZones() {
    const store = this.stores.find((s) => s.store_id === this.inputs.store_id.value);
    const chosen = this.inputs.zone_id.value;
    this.inputs.zone_id.replaceChildren(el("option", { value: "" }, t("campaignEditor.anyZone")));
    for (const z of store ? store.zones : []) this.inputs.zone_id.append(el("option", { value: z.zone_id }, z.name || z.zone_id));
    this.inputs.zone_id.value = chosen;
  }

  // Opens the editor, empty or with `campaign` (as GET /v1/campaigns/{id} answers it).
  open(campaign = null) {
    this.holder.replaceChildren();
    this.holder.hidden = false;
    const form = el("form", { class: "campaign-form", novalidate: "" });
    const inputs = {};
    inputs.campaign_id = field(form, "campaign_id", "campaignEditor.id", el("input", { name: "campaign_id", autocomplete: "off", spellcheck: "false" }));
    inputs.type = field(form, "type", "campaignEditor.trigger", el("select", { name: "type" }));
    for (const type of ["zone.entered", "zone.dwelled"]) inputs.type.append(el("option", { value: type }, t(`campaignEditor.${type}`)));
    inputs.store_id = field(form, "store_id", "campaignEditor.store", el("select", { name: "store_id" }));
    inputs.zone_kind = field(form, "zone_kind", "campaignEditor.zoneKind", el("select", { name: "zone_kind" }));
    for (const kind of KINDS) inputs.zone_kind.append(el("option", { value: kind }, kind ? t(`kind.${kind}`) : t("campaignEditor.anyKind")));
    inputs.zone_id = field(form, "zone_id", "campaignEditor.zone", el("select", { name: "zone_id" }));
    inputs.search = field(form, "sku", "campaignEditor.product", el("input", { name: "search" }));
    const picker = new ProductPicker(inputs.search, this.token, (product) => {
      this.product = product;
      this.phone.render();
    });
    form.append(picker.list);
    for (const locale of LOCALES) {
      inputs[`${locale}.title`] = field(form, `${locale}.title`, `campaignEditor.title.${locale}`, el("input", { name: `${locale}.title`, maxlength: "500" }));
      inputs[`${locale}.body`] = field(form, `${locale}.body`, `campaignEditor.body.${locale}`, el("textarea", { name: `${locale}.body`, rows: "3", maxlength: "500" }));
    }
    inputs.starts_at = field(form, "starts_at", "campaignEditor.startsAt", el("input", { name: "starts_at", type: "datetime-local" }));
    inputs.ends_at = field(form, "ends_at", "campaignEditor.endsAt", el("input", { name: "ends_at", type: "datetime-local" }));
    inputs.active = field(form, "active", "campaignEditor.active", el("input", { name: "active", type: "checkbox" }));
    const phone = new PhonePreview(() => this.texts(), () => this.product);
    const actions = el("p", { class: "actions" });
    actions.append(el("button", { type: "submit", class: "save" }, t("campaignEditor.save")));
    const close = el("button", { type: "button", class: "close" }, t("editor.close"));
    actions.append(close);
    form.append(actions, el("p", { class: "error", "data-error-for": "form", role: "alert" }), el("p", { class: "saved hint", role: "status" }));
    this.holder.append(el("h3", {}, campaign ? t("campaignEditor.editTitle", { campaign: campaign.campaign_id }) : t("campaignEditor.newTitle")), form, phone.side);
    Object.assign(this, { form, inputs, phone, product: null });
    this.fillStores();
    if (campaign) this.load(campaign);
    else inputs.active.checked = true;
    form.addEventListener("input", () => phone.render());
    inputs.store_id.addEventListener("change", () => this.fillZones());
    close.addEventListener("click", () => (this.holder.hidden = true));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    phone.render();
    inputs.campaign_id.focus();
  }

  load(c) {
    const i = this.inputs;
    i.campaign_id.value = c.campaign_id;
    i.campaign_id.readOnly = true;
    i.type.value = c.trigger.type;
    i.store_id.value = c.trigger.store_id || "";
    this.fillZones();
    i.zone_id.value = c.trigger.zone_id || "";
    i.zone_kind.value = c.trigger.zone_kind || "";
    i.search.value = c.sku;
    lookUp(c.sku, this.token()).then((product) => {
      if (product && this.inputs === i && i.search.value === product.sku) {
        this.product = product;
        this.phone.render();
      }
    });
    for (const locale of LOCALES) {
      i[`${locale}.title`].value = c.message[locale]?.title || "";
      i[`${locale}.body`].value = c.message[locale]?.body || "";
    }
    const local = (iso) => (iso ? new Date(new Date(iso).getTime() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : "");
    i.starts_at.value = local(c.schedule?.starts_at);
    i.ends_at.value = local(c.schedule?.ends_at);
    i.active.checked = c.active;
    this.hours = c.schedule?.hours || null; // kept as they are: the hours are edited through the API
  }

  texts() {
    const texts = {};
    for (const locale of LOCALES) texts[locale] = { title: this.inputs[`${locale}.title`].value, body: this.inputs[`${locale}.body`].value };
    return texts;
  }

  document() {
    const i = this.inputs;
    const trigger = { type: i.type.value };
    for (const name of ["store_id", "zone_id", "zone_kind"]) if (i[name].value) trigger[name] = i[name].value;
    const message = {};
    for (const locale of LOCALES) {
      const title = i[`${locale}.title`].value.trim();
      const body = i[`${locale}.body`].value.trim();
      if (title || body) message[locale] = { title, body };
    }
    const body = { trigger, sku: i.search.value.trim(), message, active: i.active.checked };
    const schedule = {};
    if (i.starts_at.value) schedule.starts_at = new Date(i.starts_at.value).toISOString();
    if (i.ends_at.value) schedule.ends_at = new Date(i.ends_at.value).toISOString();
    if (this.hours) schedule.hours = this.hours;
    if (Object.keys(schedule).length) body.schedule = schedule;
    return body;
  }

  // The input a 422 names. A message's locale is a key, which the API's path leaves out
  // ("message[...].title"): it is the locale whose text breaks the rule (empty, or over 500).
  inputNamed(field) {
    const match = /^message\[\.\.\.\]\.(title|body)$/.exec(field || "");
    if (!match) return inputOf(field);
    const locale = LOCALES.find((l) => {
      const value = this.inputs[`${l}.${match[1]}`].value.trim();
      return (this.document().message[l] && !value) || value.length > 500;
    });
    return locale ? `${locale}.${match[1]}` : "form";
  }

  async save() {
    for (const node of this.holder.querySelectorAll("[data-error-for]")) node.textContent = "";
    this.holder.querySelector(".saved").textContent = "";
    const id = this.inputs.campaign_id.value.trim();
    if (!id) {
      this.holder.querySelector('[data-error-for="campaign_id"]').textContent = t("campaignEditor.idNeeded");
      return;
    }
    try {
      await this.api("PUT", `/v1/campaigns/${encodeURIComponent(id)}`, this.document());
    } catch (error) {
      const slot = this.holder.querySelector(`[data-error-for="${this.inputNamed(error.field)}"]`) || this.holder.querySelector('[data-error-for="form"]');
      slot.textContent = error.message;
      return;
    }
    this.inputs.campaign_id.readOnly = true;
    this.holder.querySelector(".saved").textContent = t("campaignEditor.savedAs", { campaign: id });
    this.saved(id);
  }
}
