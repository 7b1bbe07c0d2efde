// Every text of the console, in English and French, from notify's one catalogue (/i18n/<lang>.json,
// the part "console."): the browser's language chooses, the switch in the header overrides it (kept in
// this browser). Both languages are fetched once, before the first render, so a switch is immediate.
// Codes the API speaks (statuses aside, reasons, event types, ids) are shown as they are: they are
// what an operator finds in the API and the logs.
const CHOSEN = "accueil.lang"; // localStorage: the operator's choice outlives the tab
const PART = "console.";
export const LANGUAGES = { en: "English", fr: "Français" };

// A locale's console texts by their short key; none (keys shown) if notify cannot be reached.
async function load(language) {
  try {
    const response = await fetch(`/i18n/${language}.json`);
    if (!response.ok) return {};
    const all = await response.json();
    return Object.fromEntries(Object.entries(all).filter(([key]) => key.startsWith(PART)).map(([key, text]) => [key.slice(PART.length), text]));
  } catch {
    return {};
  }
}

const TEXTS = Object.fromEntries(await Promise.all(Object.keys(LANGUAGES).map(async (code) => [code, await load(code)])));

function stored() {
  try {
    return localStorage.getItem(CHOSEN);
  } catch {
    return null; // storage refused (a private window's policy): the browser's language decides
  }
}

function fromBrowser() {
  for (const tag of navigator.languages || [navigator.language]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (base in TEXTS) return base;
  }
  return "en";
}

let current = stored() in TEXTS ? stored() : fromBrowser();

export const lang = () => current;

// The text of `key` in the current language, {name}s filled from `values`; English if French lacks it.
export function t(key, values = {}) {
  const text = TEXTS[current][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// The page's own texts: every element with data-i18n, by its key.
export function translatePage(root = document) {
  document.documentElement.lang = current;
  document.title = t("page.title");
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
}

export function choose(language) {
  if (!(language in TEXTS)) return;
  current = language;
  try {
    localStorage.setItem(CHOSEN, language);
  } catch {
    // kept for this page only
  }
  translatePage();
}
