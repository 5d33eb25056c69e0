// Heston Lab service worker: after the first visit the lab works offline. On install it caches
// every file of the build, as listed in precache.json (written by the build, see vite.config.ts),
// under a cache named for that build's content hash; on activate it drops older builds' caches.
// Pages are served network-first (so a new deployment shows up on the next visit) falling back to
// the cached shell; everything else (content-hashed assets, wasm, sample data) cache-first.
// All URLs are relative to the registration scope, so the lab works under any sub-path.
// The build replaces the token below with its content hash, so every deployment changes this
// file's bytes and the browser installs the new worker (and with it the new file list).
// build: __HESTON_LAB_BUILD__
const PREFIX = 'heston-lab-';
const META = 'heston-lab-meta';

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const scope = self.registration.scope;
      const res = await fetch(new URL('precache.json', scope), { cache: 'no-store' });
      if (!res.ok) throw new Error(`precache.json: HTTP ${res.status}`);
      const { version, files } = await res.json();
      const cache = await caches.open(PREFIX + version);
      await cache.addAll([scope, ...files.map((f) => new URL(f, scope).href)]);
      await (await caches.open(META)).put(new URL('current-version', scope).href, new Response(version));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const meta = await caches.open(META);
      const current = await (await meta.match(new URL('current-version', self.registration.scope).href))?.text();
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && name !== META && name !== PREFIX + current) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  const scope = self.registration.scope;
  if (!url.href.startsWith(scope)) return;
  const rel = url.href.slice(scope.length).split(/[?#]/)[0];
  if (rel === 'sw.js' || rel === 'precache.json') return;
  if (req.mode === 'navigate') {
    event.respondWith(
      fetch(req).catch(async () => (await caches.match(req, { ignoreSearch: true })) ?? (await caches.match(scope)) ?? Response.error()),
    );
    return;
  }
  event.respondWith((async () => (await caches.match(req, { ignoreSearch: true })) ?? fetch(req))());
});
