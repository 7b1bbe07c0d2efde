// The notification as a phone shows it: the app's name, the title on one line, the body cut after a
// few lines, in the language chosen beside it, with `{product}` replaced by the product's name in that
// language as notify replaces it when it sends. Shared by the campaign editor and the journey editor's
// message steps, so an operator sees the same thing wherever a message is written.
import { lang, t } from "./console-i18n.js";
import { el } from "./console-map.js";
import { nameIn } from "./console-products.js";

export const LOCALES = ["fr", "en"];

export class PhonePreview {
  // `texts()`: the message being written, {fr: {title, body}, en: {...}}, and `product()`: the
  // catalogue's product it is about, or null while none is picked; both read at each render.
  constructor(texts, product = () => null) {
    Object.assign(this, { texts, product });
    this.figure = el("figure", { class: "notification-preview", "aria-live": "polite" });
    this.locale = el("select", { name: "preview_locale", "aria-label": t("campaignEditor.previewIn") });
    for (const locale of LOCALES) this.locale.append(el("option", { value: locale }, locale.toUpperCase()));
    this.locale.value = lang() === "fr" ? "fr" : "en";
    this.locale.addEventListener("change", () => this.render());
    this.side = el("div", { class: "preview-side" });
    this.side.append(el("h4", {}, t("campaignEditor.preview")), this.locale, this.figure);
  }

  render() {
    const locale = this.locale.value;
    const written = this.texts()[locale] || {};
    const product = this.product();
    const named = (text) => (product ? text.replaceAll("{product}", nameIn(product, locale)) : text).trim();
    const title = named(written.title || "");
    const body = named(written.body || "");
    this.figure.replaceChildren(
      el("div", { class: "app" }, t("campaignEditor.appName")),
      el("div", { class: "title" }, title || t("campaignEditor.noTitle")),
      el("div", { class: "body" }, body || t("campaignEditor.noBody")),
    );
    this.figure.classList.toggle("empty", !title && !body);
  }
}
