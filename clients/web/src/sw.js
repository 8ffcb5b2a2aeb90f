// The service worker: keeps the application shell (HTML, scripts, styles, the Automerge
// WebAssembly, icons) in a versioned cache so the app opens without network. The build fills in
// the version and the list of files. API calls (/v1/...) always go to the network: cases live in
// IndexedDB, not here.

const VERSION = '__FENGQIAO_VERSION__';
const SHELL = __FENGQIAO_SHELL__;
const CACHE = `fengqiao-shell-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('fengqiao-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/v1/') || url.pathname.startsWith('/healthz')) return;
  if (request.mode === 'navigate') {
    // The shell for every page of the app; the network only if the cache lost it.
    event.respondWith(
      caches
        .open(CACHE)
        .then((cache) => cache.match('./index.html').then((page) => page ?? cache.match('./')))
        .then((cached) => cached ?? fetch(request)),
    );
    return;
  }
  event.respondWith(caches.match(request, { cacheName: CACHE }).then((cached) => cached ?? fetch(request)));
});
