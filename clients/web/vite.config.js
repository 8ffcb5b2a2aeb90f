// Builds the web app into dist/ (served by the Fengqiao server at `/`). Besides the bundle, the
// build writes the service worker (src/sw.js) with this build's version and the list of every
// file of the application shell, so that the app opens offline.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const swSource = fileURLToPath(new URL('./src/sw.js', import.meta.url));

/** Emits sw.js with the precache list of the finished bundle. */
function serviceWorker() {
  return {
    name: 'fengqiao-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((f) => !f.endsWith('.map'));
      const publicFiles = ['manifest.webmanifest', 'icons/icon.svg', 'icons/icon-192.png', 'icons/icon-512.png', 'icons/icon-maskable-512.png'];
      // index.html is written after this hook runs: name it, and `./` (the same page), explicitly.
      const assets = files.filter((f) => f !== 'index.html');
      const shell = ['./', './index.html', ...[...assets, ...publicFiles].sort().map((f) => `./${f}`)];
      const hash = createHash('sha256');
      for (const f of assets.sort()) {
        const item = bundle[f];
        hash.update(f);
        hash.update(item.type === 'chunk' ? item.code : item.source);
      }
      const version = hash.digest('hex').slice(0, 16);
      const source = readFileSync(swSource, 'utf8')
        .replace('__FENGQIAO_VERSION__', version)
        .replace('__FENGQIAO_SHELL__', JSON.stringify(shell, null, 2));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // ECharts alone is ~1 MB; it is loaded only by the dashboard.
    chunkSizeWarningLimit: 1200,
  },
  plugins: [serviceWorker()],
  server: {
    // `npm run dev` next to a running server: API and sync go to it.
    proxy: {
      '/v1': { target: process.env.FENGQIAO_SERVER ?? 'http://127.0.0.1:8080', ws: true, changeOrigin: true },
    },
  },
});
