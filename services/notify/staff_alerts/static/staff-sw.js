// The staff page's service worker: shows the pickup alerts pushed while the page is closed.
// The notification's tag is the push's Topic (one per order): "has arrived" replaces "4 min away",
// and a copy delivered twice replaces the first instead of showing twice.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { body: event.data ? event.data.text() : "" };
  }
  const options = { body: message.body || "", lang: message.lang, data: { url: "/staff" } };
  if (message.tag) {
    options.tag = message.tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(message.title || "accueil", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (new URL(client.url).pathname === "/staff") return client.focus();
      }
      return self.clients.openWindow("/staff");
    }),
  );
});
