// An automerge-repo client (a tablet's repo, persisted with NodeFS storage) driven by the
// benchmark harness. Prints one JSON line with what it measured.
//
//   node client.mjs bootstrap --url WS --ids FILE --storage DIR
//       A fresh tablet: find every document of FILE (JSON [id]) over the network; wall time until
//       all are ready and written to storage.
//   node client.mjs offline-edit --ids FILE --storage DIR --edits FILE
//       The tablet offline: the same repo from storage, no network; make the edits and flush.
//   node client.mjs reconnect --url WS --ids FILE --storage DIR --server HTTP
//       The tablet back online: resync every document; wall time until each document's heads equal
//       the server's (asked over the harness's HTTP side door, not the measured connection).
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { Repo } from "@automerge/automerge-repo";
import { BrowserWebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { applyEdits } from "./edits.mjs";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    ids: { type: "string" },
    storage: { type: "string" },
    edits: { type: "string" },
    server: { type: "string" },
  },
});
const mode = positionals[0];
const ids = JSON.parse(await readFile(values.ids, "utf8"));
const started = performance.now();
const cpuBefore = process.cpuUsage();

const network = values.url ? [new BrowserWebSocketClientAdapter(values.url)] : [];
const repo = new Repo({ network, storage: new NodeFSStorageAdapter(values.storage), sharePolicy: async () => true });
// Ask for documents only once connected to the server: a document asked for before any peer is
// there may be declared unavailable.
if (network.length > 0) await repo.networkSubsystem.whenReady();

if (mode === "bootstrap") {
  await Promise.all(ids.map((id) => repo.find(id)));
  await repo.flush();
} else if (mode === "offline-edit") {
  await applyEdits(repo, JSON.parse(await readFile(values.edits, "utf8")));
  await repo.flush();
} else if (mode === "reconnect") {
  const handles = await Promise.all(ids.map((id) => repo.find(id)));
  for (;;) {
    const server = await post(`${values.server}/heads`, ids);
    const behind = handles.filter((h) => !sameHeads(h.heads(), server[h.documentId]));
    if (behind.length === 0) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  await repo.flush();
} else {
  throw new Error(`unknown mode ${mode}`);
}

const cpu = process.cpuUsage(cpuBefore);
const result = {
  mode,
  documents: ids.length,
  wall_ms: performance.now() - started,
  cpu_ms: (cpu.user + cpu.system) / 1000,
  peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
};
process.stdout.write(JSON.stringify(result) + "\n");
await repo.shutdown();
process.exit(0);

function sameHeads(a, b) {
  if (!b || a.length !== b.length) return false;
  const set = new Set(b);
  return a.every((h) => set.has(h));
}

async function post(url, body) {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.json();
}
