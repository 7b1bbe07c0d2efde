// The shopper SDK's service worker: shows each pushed message and tells notify what became of it.
// The notification's tag is the push's `tag`: a message delivered twice (a resend after a crash)
// replaces the copy on screen instead of showing twice. The device's token comes from the page
// (IndexedDB, written by the SDK), since a worker cannot read the page's localStorage.
// A message that says why it came (`why`, in the message's language) offers a "Why?" action: it
// opens the shop page at that message, where its why is shown in the message list.
"use strict";

// The action's label, by the message's language: the catalogue's `why.action`
// (services/notify/catalogue/<locale>/why.json; a unit test keeps the two the same). A worker shows
// the notification at once, with no time to fetch it.
const WHY_ACTION = { en: "Why?", fr: "Pourquoi ?" };

function savedDevice() {
  return new Promise((resolve) => {
    const open = indexedDB.open("accueil", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("worker");
    open.onerror = () => resolve(null);
    open.onsuccess = () => {
      const get = open.result.transaction("worker").objectStore("worker").get("device");
      get.onsuccess = () => resolve(get.result || null);
      get.onerror = () => resolve(null);
    };
  });
}

// POST /v1/messages/{id}/events; each type counts once per message, so a repeat is harmless.
async function report(messageId, type) {
  const device = await savedDevice();
  if (!device || !device.token || messageId === undefined || messageId === null) return null;
  const response = await fetch(`${device.notify}/v1/messages/${encodeURIComponent(messageId)}/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${device.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ type, ts: new Date().toISOString() }),
  });
  return response.status;
}

function messageOf(data) {
  if (!data) return {};
  try {
    return data.json();
  } catch {
    return { body: data.text() };
  }
}

async function showMessage(message) {
  const options = { body: message.body || "", lang: message.lang, data: { id: message.id, url: message.url } };
  if (message.why) {
    const language = String(message.lang || "en").split("-")[0];
    options.actions = [{ action: "why", title: WHY_ACTION[language] || WHY_ACTION.en }];
  }
  if (message.tag) {
    options.tag = message.tag;
    options.renotify = true;
  }
  await self.registration.showNotification(message.title || "accueil", options);
  return report(message.id, "shown").catch(() => null);
}

// Where a click takes the shopper: the message's own URL, else the page that registered the device;
// "Why?" (`action` "why") takes them to that page at the message, whose why it shows.
function whereTo(data, action, device) {
  const page = (device && device.page) || self.registration.scope;
  if (action === "why" && data.id !== undefined && data.id !== null) {
    return `${page.split("#")[0]}#message-${encodeURIComponent(data.id)}`;
  }
  return data.url || page;
}

// Reported before the window opens: opening may be refused, the click still happened.
async function openMessage(notification, action) {
  notification.close();
  const data = notification.data || {};
  const status = await report(data.id, "clicked").catch(() => null);
  const target = whereTo(data, action, await savedDevice());
  try {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((client) => client.url === target);
    await (open ? open.focus() : self.clients.openWindow(target));
  } catch {
    // no window may be opened without the user's gesture: nothing else to do
  }
  return status;
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("push", (event) => event.waitUntil(showMessage(messageOf(event.data))));
self.addEventListener("notificationclick", (event) => event.waitUntil(openMessage(event.notification, event.action)));
self.addEventListener("notificationclose", (event) => {
  event.waitUntil(report((event.notification.data || {}).id, "dismissed").catch(() => null));
});
