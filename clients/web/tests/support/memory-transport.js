// A transport for tests that carries each message to a FakeServer connection asynchronously, as a
// socket would. `server.tokens` decides which access tokens are valid.

import { serverMessage } from './fake-server.js';

export function memoryTransport(server, { kind = 'websocket', reachable = () => true } = {}) {
  const transport = {
    kind,
    opened: 0,
    open(token, { onOpen, onMessage, onClose }) {
      transport.opened += 1;
      let closed = false;
      if (!reachable()) {
        setTimeout(() => onClose({ network: true, opened: false }), 0);
        return { send() {}, close() {} };
      }
      const connection = server.connect();
      setTimeout(() => !closed && onOpen(), 0);
      return {
        send(bytes) {
          const valid = !server.tokens || server.tokens.has(token);
          const reply = valid
            ? connection.handle(bytes)
            : serverMessage('error', { code: 'unauthorized', message: '登录已过期，请重新登录后再同步。', retry: true });
          setTimeout(() => !closed && onMessage(reply), 0);
        },
        close() {
          closed = true;
        },
      };
    },
  };
  return transport;
}
