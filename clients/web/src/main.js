// Entry point: loads Automerge's WebAssembly (a separate, cached asset), makes sure only one tab
// edits the replica (two tabs under one actor id would write conflicting changes), starts the
// application and registers the service worker that keeps it usable offline.

import wasmUrl from '@automerge/automerge/automerge.wasm?url';
import { initializeWasm } from './core/automerge.js';
import './ui/styles.css';

const root = document.getElementById('app');

function fatal(message) {
  root.innerHTML = '';
  const main = document.createElement('main');
  main.className = 'splash';
  main.textContent = message;
  root.append(main);
}

async function start() {
  await initializeWasm(wasmUrl);
  const [{ startApp }, { AppController }] = await Promise.all([import('./ui/app.js'), import('./ui/controller.js')]);
  startApp(root, new AppController());
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
  navigator.serviceWorker.register('./sw.js').catch((e) => console.warn('service worker not registered', e));
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    // A new version took over: it serves the same data; the next navigation uses the new shell.
    if (reloading) return;
    reloading = true;
  });
}

if (navigator.locks) {
  navigator.locks.request('fengqiao-replica', { ifAvailable: true }, (lock) => {
    if (!lock) {
      fatal('枫桥已在本浏览器的另一个标签页中打开。请关闭其他标签页后刷新本页。');
      return undefined;
    }
    start().catch((e) => {
      console.error(e);
      fatal(`应用启动失败：${e.message}`);
    });
    // Held for the life of the page.
    return new Promise(() => {});
  });
} else {
  start().catch((e) => fatal(`应用启动失败：${e.message}`));
}
registerServiceWorker();
