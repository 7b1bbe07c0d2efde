// The product a message is about, picked from inventory's catalogue: searched as the marketer types (a
// SKU's start or words of a name), or looked up by its SKU when a saved message is opened. Shared by
// the campaign editor and the journey editor's message steps, so both pick a product the same way.
import { lang, t } from "./console-i18n.js";
import { config, el } from "./console-map.js";

const SHOWN = 8; // a search's answers listed at once: enough to recognise the one meant
const TYPING_MS = 200; // the catalogue is searched once the typing pauses, not at each key

// The product's name as a phone in `locale` shows it in `{product}`: its name in that language, else
// its own name (as notify's product replica answers `name_in`).
export const nameIn = (product, locale) => product.names?.[locale] || product.name;

// GET from inventory with the console's token: the answer, or null when there is none to use.
async function read(path, token) {
  const answer = await fetch(`${config.inventory}${path}`, { headers: { Authorization: `Bearer ${token}` } }).catch(() => null);
  return answer && answer.ok ? answer.json() : null;
}

// The catalogue's product of that SKU, or null (unknown, or the catalogue out of reach).
export const lookUp = (sku, token) => read(`/v1/products/${encodeURIComponent(sku)}`, token);

export class ProductPicker {
  // `input`: where a SKU is typed or a name searched; `token()`: the console's token; `chosen(product)`:
  // told of the product picked, and of null when the marketer types over it (the text is theirs again).
  constructor(input, token, chosen) {
    Object.assign(this, { input, token, chosen, asked: 0 });
    Object.assign(input, { type: "search", autocomplete: "off", spellcheck: false, placeholder: t("campaignEditor.searchHint") });
    this.list = el("ul", { class: "products", role: "listbox", "aria-label": t("campaignEditor.product") });
    let pending = null;
    input.addEventListener("input", () => {
      chosen(null);
      clearTimeout(pending);
      pending = setTimeout(() => this.search(input.value), TYPING_MS);
    });
  }

  async search(query) {
    const mine = ++this.asked; // an answer to an older query must not replace a newer one
    const q = query.trim();
    const answer = q ? await read(`/v1/products?limit=${SHOWN}&q=${encodeURIComponent(q)}`, this.token()) : { products: [] };
    if (mine !== this.asked) return;
    if (!answer) return this.list.replaceChildren(el("li", { class: "hint" }, t("campaignEditor.catalogueDown")));
    this.list.replaceChildren(...answer.products.map((p) => this.option(p)));
    if (q && !answer.products.length) this.list.append(el("li", { class: "hint" }, t("campaignEditor.noProduct")));
  }

  option(product) {
    const option = el("li", { role: "option", "data-sku": product.sku, tabindex: "0" }, `${nameIn(product, lang())} · ${product.sku}`);
    const pick = () => {
      this.input.value = product.sku;
      this.list.replaceChildren();
      this.chosen(product);
    };
    option.addEventListener("click", pick);
    option.addEventListener("keydown", (event) => event.key === "Enter" && pick());
    return option;
  }
}
