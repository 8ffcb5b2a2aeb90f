// The edits a benchmark makes, given by the harness as JSON so that both systems make exactly the
// same ones on the same documents:
//   [{"id": documentId, "ops": [{"op": "append", "path": [...], "text": "..."} |
//                               {"op": "set", "path": [...], "value": scalar}]}]
// `append` adds text at the end of a Text (collaborative free text); `set` writes a scalar.
import * as A from "@automerge/automerge";

export async function applyEdits(repo, edits) {
  for (const { id, ops } of edits) {
    const handle = await repo.find(id);
    handle.change((doc) => {
      for (const op of ops) applyOp(doc, op);
    });
  }
}

function applyOp(doc, op) {
  const parent = op.path.slice(0, -1).reduce((obj, key) => obj[key], doc);
  const key = op.path[op.path.length - 1];
  if (op.op === "append") {
    const text = parent[key] ?? "";
    A.splice(doc, op.path, text.length, 0, op.text);
  } else if (op.op === "set") {
    parent[key] = op.value;
  } else {
    throw new Error(`unknown edit ${op.op}`);
  }
}
