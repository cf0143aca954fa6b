// mynacar's service worker: the crew's day sheet stays readable without signal in the mountains.
// The day sheet is fetched from the network first and kept; when the network fails, the kept copy
// is shown. Results entered offline are queued by portal.js (not here) and sent when back online.
"use strict";
const CACHE = "mynacar-crew-v1";
const SHELL = ["/static/portal.css", "/static/portal.js"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

async function networkFirst(request) {
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic") {
      const cache = await caches.open(CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await caches.match(request);
    if (kept) return kept;
    throw error;
  }
}

async function cacheFirst(request) {
  return (await caches.match(request)) || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/crew/day") {
    event.respondWith(networkFirst(request));
  } else if (SHELL.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});
