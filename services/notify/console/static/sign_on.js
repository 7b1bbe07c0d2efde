// The console's single sign-on: when notify signs operators in with the retailer's OpenID Connect
// provider, the page offers "Sign in" (to /console/login and back) instead of the admin-token form,
// shows who is signed in and with which role, and calls the API with the session's short-lived token,
// asking /console/session for a fresh one before it expires. The session itself is an HttpOnly cookie
// this script never sees. Without single sign-on (204: no session here), the admin-token form.
// console.js is imported first: it sets window.accueilConsole once the catalogue's texts are there.
import "/console/console.js";
import { t } from "/console/console-i18n.js";

const RENEW_BEFORE_MS = 60_000; // a fresh token a minute before the current one expires
const RETRY_MS = 10_000;

const consoleApi = window.accueilConsole;
const $ = (id) => document.getElementById(id);
let current = null; // the session's answer: email, role, stores, token, expires_at
let renewal = null;

function element(tag, attrs, text) {
  const node = document.createElement(tag);
  Object.assign(node, attrs);
  if (text) node.textContent = text;
  return node;
}

// What single sign-on adds to the page: who is signed in and "Sign out" in the header, "Sign in" and
// what went wrong where the admin-token form was.
const who = element("span", { id: "who", className: "who", hidden: true });
const signOutButton = element("button", { id: "sso-signout", type: "button", hidden: true }, t("sso.signOut"));
const panel = element("section", { id: "sso", className: "sso", hidden: true });
const signInLink = element("a", { id: "sso-signin", className: "button", href: "/console/login" }, t("sso.signIn"));
const message = element("p", { id: "sso-error", className: "error", role: "alert" });
const prompt = element("p", {}, t("sso.prompt"));
panel.append(prompt, signInLink, message);
// Translated again with the rest of the page when the operator switches the language.
signOutButton.dataset.i18n = "sso.signOut";
signInLink.dataset.i18n = "sso.signIn";
prompt.dataset.i18n = "sso.prompt";

// A role as a person reads it; a role this page does not know yet, as the API names it.
function roleName(role) {
  const name = t(`role.${role}`);
  return name === `role.${role}` ? role.replace("_", " ") : name;
}

function session() {
  return fetch("/console/session", { credentials: "same-origin", cache: "no-store" });
}

function showSignedIn(answer) {
  current = answer;
  who.textContent = `${answer.email} · ${roleName(answer.role)}`;
  who.dataset.role = answer.role;
  who.hidden = false;
  signOutButton.hidden = false;
  panel.hidden = true;
}

// console.js signed out (a refused token, or the button): the session may still be there, its role
// refused this view; or it has ended and the operator signs in again.
function signedOut(text) {
  clearTimeout(renewal);
  message.textContent = text;
  if (current) {
    panel.hidden = false;
    signInLink.hidden = true;
    return;
  }
  who.hidden = true;
  signOutButton.hidden = true;
  signInLink.hidden = false;
  panel.hidden = false;
}

function scheduleRenewal() {
  clearTimeout(renewal);
  const due = new Date(current.expires_at).getTime() - Date.now() - RENEW_BEFORE_MS;
  renewal = setTimeout(renew, Math.max(due, 5_000));
}

async function renew() {
  let response;
  try {
    response = await session();
  } catch {
    renewal = setTimeout(renew, RETRY_MS);
    return;
  }
  if (response.ok) {
    showSignedIn(await response.json());
    consoleApi.renew(current.token);
    scheduleRenewal();
  } else if (response.status === 401) {
    current = null;
    consoleApi.signOut(t("sso.ended"));
  } else {
    renewal = setTimeout(renew, RETRY_MS);
  }
}

async function signOut() {
  clearTimeout(renewal);
  await fetch("/console/logout", { method: "POST", credentials: "same-origin" }).catch(() => null);
  current = null;
  consoleApi.signOut("");
}

async function begin() {
  let response;
  try {
    response = await session();
  } catch {
    response = null;
  }
  if (response && response.status === 204) return consoleApi.start(); // no single sign-on here
  document.body.classList.add("sso");
  $("signin").after(panel);
  $("signout").after(who, signOutButton);
  signOutButton.addEventListener("click", signOut);
  consoleApi.use({ signedOut, ended: t("sso.ended") });
  if (!response || !response.ok) {
    const text = !response || response.status === 401 ? "" : t("sso.uncheckable");
    return consoleApi.signOut(text);
  }
  showSignedIn(await response.json());
  scheduleRenewal();
  const refused = t("sso.refused", { role: roleName(current.role) });
  consoleApi.signIn(current.token, { keep: false, refused, as: current.role, stores: current.stores });
}

begin();
