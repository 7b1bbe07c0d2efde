// The shopper SDK's service worker: shows each pushed message and tells notify what became of it.
// The notification's tag is the push's `tag`: a message delivered twice (a resend after a crash)
// replaces the copy on screen instead of showing twice. The device's token comes from the page
// (IndexedDB, written by the SDK), since a worker cannot read the page's localStorage.
"use strict";

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
  if (message.tag) {
    options.tag = message.tag;
    options.renotify = true;
  }
  await self.registration.showNotification(message.title || "accueil", options);
  return report(message.id, "shown").catch(() => null);
}

// Reported before the window opens: opening may be refused, the click still happened.
async function openMessage(notification) {
  notification.close();
  const { id, url } = notification.data || {};
  const status = await report(id, "clicked").catch(() => null);
  const device = await savedDevice();
  const target = url || (device && device.page) || self.registration.scope;
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
self.addEventListener("notificationclick", (event) => event.waitUntil(openMessage(event.notification)));
self.addEventListener("notificationclose", (event) => {
  event.waitUntil(report((event.notification.data || {}).id, "dismissed").catch(() => null));
});
