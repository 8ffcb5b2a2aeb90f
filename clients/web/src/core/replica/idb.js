// A few promises over IndexedDB. Inside `transaction(...)` the callback may await only IndexedDB
// requests (through `request`), never other work, or the browser commits the transaction early.

/** Opens (and creates or upgrades) a database. */
export function openDatabase(name, version, upgrade) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, version);
    req.onupgradeneeded = (event) => upgrade(req.result, event.oldVersion, req.transaction);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error(`the database ${name} is held open by another tab`));
  });
}

/** The result of one request. */
export function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * Runs `work(stores)` in one transaction over `names` and resolves with its result once the
 * transaction has committed (so the data is durable when the promise resolves).
 */
export function transaction(db, names, mode, work) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, mode, { durability: 'strict' });
    const stores = Object.fromEntries(names.map((n) => [n, tx.objectStore(n)]));
    let result;
    let failed = null;
    tx.oncomplete = () => (failed ? reject(failed) : resolve(result));
    tx.onerror = () => reject(tx.error ?? failed);
    tx.onabort = () => reject(tx.error ?? failed ?? new Error('transaction aborted'));
    Promise.resolve()
      .then(() => work(stores))
      .then(
        (r) => {
          result = r;
        },
        (e) => {
          failed = e;
          try {
            tx.abort();
          } catch {
            // Already finished: oncomplete or onabort reports.
          }
        },
      );
  });
}

/** Deletes a database (a user's replica on this device). */
export function deleteDatabase(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
  });
}
