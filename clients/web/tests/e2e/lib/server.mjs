// The test server for browser tests: serves the built app (dist/) on 127.0.0.1 at an ephemeral
// port and stands in for the Fengqiao server's endpoints the app uses, so that the browser tests
// run without the Rust server: login and refresh with fixed users, the sync protocol over
// WebSocket and HTTP backed by tests/support/fake-server.js, and no /v1/stats (404, as today).
// End-to-end tests against the real server go beside these in tests/e2e/ once it serves the app.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { FakeServer } from '../../support/fake-server.js';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** Users of the stand-in login: `{ [id]: { password, name, unit, roles } }`. */
export const USERS = {
  'wang.fang': { password: 'xiahe-tiaojie-2026', name: '王芳', unit: 'qingshan.xiahe', roles: ['mediator'] },
  'zhao.lei': { password: 'sifa-fuyi-2026', name: '赵磊', unit: 'qingshan.sifa', roles: ['reconsideration_officer'] },
  'li.ming': { password: 'ducha-2026', name: '李明', unit: 'qingshan', roles: ['supervisor'] },
};

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function startTestServer({ root }) {
  const backend = new FakeServer();
  const tokens = new Map(); // access token → user id
  const refreshTokens = new Map();
  const log = [];
  /** Set `state.stats` to answer /v1/stats; null answers 404, as a server without it does. */
  const state = { stats: null };

  const session = (id, deviceId) => {
    const u = USERS[id];
    const access = randomBytes(16).toString('hex');
    const refresh = randomBytes(16).toString('hex');
    tokens.set(access, id);
    refreshTokens.set(refresh, { id, deviceId });
    const now = Math.floor(Date.now() / 1000);
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_at: now + 900,
      refresh_token: refresh,
      refresh_expires_at: now + 30 * 86400,
      user: { id, name: u.name, unit: u.unit, roles: u.roles },
      device_id: deviceId,
    };
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    log.push(`${req.method} ${url.pathname}`);
    try {
      if (url.pathname === '/v1/auth/login' && req.method === 'POST') {
        const { user_id: id, password, device_id: deviceId } = JSON.parse(await body(req));
        if (!USERS[id] || USERS[id].password !== password) return json(res, 401, { code: 'invalid_credentials', message: '用户名或密码错误' });
        return json(res, 200, session(id, deviceId));
      }
      if (url.pathname === '/v1/auth/refresh' && req.method === 'POST') {
        const { refresh_token: token } = JSON.parse(await body(req));
        const found = refreshTokens.get(token);
        if (!found) return json(res, 401, { code: 'refresh_invalid', message: '登录已失效，请重新登录' });
        refreshTokens.delete(token);
        return json(res, 200, session(found.id, found.deviceId));
      }
      if (url.pathname === '/v1/sync' && req.method === 'POST') {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        const reply = tokens.has(token) ? backend.connect().handle(new Uint8Array(await body(req))) : null;
        if (!reply) return json(res, 401, { code: 'unauthorized' });
        res.writeHead(200, { 'Content-Type': 'application/cbor' });
        return res.end(Buffer.from(reply));
      }
      if (url.pathname === '/v1/stats' && state.stats) {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        if (!tokens.has(token)) return json(res, 401, { code: 'token_invalid', message: '访问令牌无效，请重新登录' });
        return json(res, 200, { ...state.stats, unit: url.searchParams.get('unit'), from: url.searchParams.get('from'), to: url.searchParams.get('to') });
      }
      if (url.pathname.startsWith('/v1/')) return json(res, 404, { code: 'not_found', message: '接口不存在' });
      // Static files, and the app's index for anything else.
      let file = normalize(join(root, decodeURIComponent(url.pathname)));
      if (!file.startsWith(resolve(root))) return json(res, 403, { code: 'forbidden' });
      let info = await stat(file).catch(() => null);
      if (!info || info.isDirectory()) {
        file = join(root, 'index.html');
        info = await stat(file);
      }
      const headers = { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' };
      if (file.endsWith('sw.js') || file.endsWith('index.html')) headers['Cache-Control'] = 'no-cache';
      res.writeHead(200, headers);
      res.end(await readFile(file));
    } catch (e) {
      json(res, 500, { code: 'internal', message: String(e) });
    }
  });

  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('fengqiao.v1') ? 'fengqiao.v1' : false),
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    const token = offered.find((p) => p.startsWith('bearer.'))?.slice('bearer.'.length);
    if (url.pathname !== '/v1/sync' || !tokens.has(token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      log.push('WS /v1/sync');
      const connection = backend.connect();
      ws.on('message', (data, isBinary) => {
        if (!isBinary) return ws.close(1003);
        ws.send(connection.handle(new Uint8Array(data)));
      });
    });
  });

  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    backend,
    log,
    state,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise((ok) => server.close(ok));
      server.closeAllConnections?.();
    },
  };
}
