// The automerge-repo sync server the benchmark compares Fengqiao with: a Repo with NodeFS storage
// and the WebSocket server adapter, sharing every document with every peer (the sync server of
// automerge-repo's own examples).
//
//   node server.mjs --port PORT --storage DIR
//
// It prints one JSON line `{"ready": port}` when it listens. The same port answers plain HTTP for
// the harness (never through the measured connection):
//   POST /import   body: JSON [{"file": path}] -> [{"file", "id"}]   documents imported and flushed
//   POST /heads    body: JSON [id]             -> {id: [hash]}        heads of documents
//   POST /edit     body: JSON edits (see edits.mjs) -> {}              edits made on the server
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";
import { Repo } from "@automerge/automerge-repo";
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { applyEdits } from "./edits.mjs";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, storage: { type: "string" } } });
if (!values.storage) throw new Error("--storage DIR is required");

const http = createServer(async (req, res) => {
  try {
    const body = JSON.parse((await readBody(req)) || "null");
    let answer;
    if (req.url === "/import") {
      answer = [];
      for (const { file } of body) {
        const handle = repo.import(new Uint8Array(await readFile(file)));
        answer.push({ file, id: handle.documentId });
      }
      await repo.flush();
    } else if (req.url === "/heads") {
      answer = {};
      for (const id of body) answer[id] = (await repo.find(id)).heads();
    } else if (req.url === "/edit") {
      await applyEdits(repo, body);
      await repo.flush();
      answer = {};
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
  } catch (error) {
    res.writeHead(500).end(String(error?.stack ?? error));
  }
});
const wss = new WebSocketServer({ server: http });
const repo = new Repo({
  network: [new NodeWSServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(values.storage),
  sharePolicy: async () => true,
});

http.listen(Number(values.port), "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ ready: http.address().port }) + "\n");
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await repo.flush();
    process.exit(0);
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
