// How sync messages travel (PROTOCOL §1): a WebSocket for live sessions (the access token rides in
// the `bearer.<token>` subprotocol, as browsers cannot set headers), or one HTTP POST per message
// for networks where WebSockets do not get through. Both give the sync manager the same channel:
// `send(bytes)`, `close()`, and `onOpen`, `onMessage(bytes)`, `onClose({ network })` callbacks.

export const SUBPROTOCOL = 'fengqiao.v1';

/** The sync endpoint's URLs for a page served from `location`. */
export function syncUrls(location) {
  const ws = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/sync`;
  return { ws, http: `${location.origin}/v1/sync` };
}

export function webSocketTransport({ url, WebSocket: WS = globalThis.WebSocket }) {
  return {
    kind: 'websocket',
    open(token, { onOpen, onMessage, onClose }) {
      const socket = new WS(url, [SUBPROTOCOL, `bearer.${token}`]);
      socket.binaryType = 'arraybuffer';
      let opened = false;
      let closed = false;
      const finish = (info) => {
        if (closed) return;
        closed = true;
        onClose(info);
      };
      socket.onopen = () => {
        opened = true;
        onOpen();
      };
      socket.onmessage = (event) => {
        if (typeof event.data === 'string') {
          // The protocol is binary only; a text frame is a protocol error.
          socket.close(1003);
          finish({ network: false, opened });
          return;
        }
        onMessage(new Uint8Array(event.data));
      };
      socket.onerror = () => {};
      socket.onclose = (event) => finish({ network: !opened || event.code === 1006, opened, code: event.code });
      return {
        send(bytes) {
          socket.send(bytes);
        },
        close() {
          closed = true;
          socket.close(1000);
        },
      };
    },
  };
}

export function httpTransport({ url, fetch: fetchImpl = globalThis.fetch.bind(globalThis) }) {
  return {
    kind: 'http',
    open(token, { onOpen, onMessage, onClose }) {
      let closed = false;
      queueMicrotask(() => !closed && onOpen());
      return {
        async send(bytes) {
          let response;
          try {
            response = await fetchImpl(url, {
              method: 'POST',
              headers: { 'Content-Type': 'application/cbor', Authorization: `Bearer ${token}` },
              body: bytes,
              cache: 'no-store',
            });
          } catch {
            if (!closed) {
              closed = true;
              onClose({ network: true, opened: true });
            }
            return;
          }
          // Every answer, errors included, is a CBOR message; the status only helps proxies.
          const body = new Uint8Array(await response.arrayBuffer());
          if (!closed) onMessage(body);
        },
        close() {
          closed = true;
        },
      };
    },
  };
}
