// Preact hooks over the controller and the replica.

import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { readCase } from '../core/schema/document.js';

export const AppContext = createContext(null);

/** The controller; the calling component re-renders whenever it changes. */
export function useApp() {
  const app = useContext(AppContext);
  return useVersioned(app, () => true);
}

/**
 * Re-renders on every event of `source` (the controller or a replica, each counting its events in
 * `version`) that `wanted(event)` accepts; returns `source`. Effects subscribe after the first
 * paint, so an event between render and subscription (the controller finishing its start before
 * the shell subscribed) would be lost: the version seen at render is compared once subscribed.
 */
function useVersioned(source, wanted) {
  const [, setTick] = useState(0);
  const rendered = source.version;
  useEffect(() => {
    const unsubscribe = source.subscribe((e) => wanted(e) && setTick((t) => t + 1));
    if (source.version !== rendered) setTick((t) => t + 1);
    return unsubscribe;
  }, [source]);
  return source;
}

/** A case's document, loaded and kept current: `{ doc, c }` (`c` = plain case) or null. */
export function useCase(docId) {
  const app = useContext(AppContext);
  const replica = app.replica;
  const read = () => {
    const doc = replica.peek(docId);
    return doc ? { doc, c: readCase(doc) } : null;
  };
  const [state, setState] = useState(read);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    let live = true;
    setState(read());
    replica.doc(docId).then((doc) => {
      if (!live) return;
      if (doc) setState(read());
      else setMissing(true);
    });
    const unsubscribe = replica.subscribe((e) => {
      if (e.type === 'case' && e.docId === docId) {
        const next = read();
        if (next) setState(next);
        else setMissing(!replica.has(docId));
      }
    });
    return () => {
      live = false;
      unsubscribe();
    };
  }, [docId, replica]);
  return { current: state, missing };
}

/** Re-renders when the replica's list of cases changes; returns the list. */
export function useCaseList() {
  const app = useContext(AppContext);
  return useVersioned(app.replica, (e) => e.type === 'case').list();
}

/** The current hash route as `[segment, ...]`. */
export function useRoute() {
  const parse = () => (location.hash.replace(/^#\/?/, '').split('?')[0] || '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function navigate(path) {
  location.hash = `#/${path}`;
}
