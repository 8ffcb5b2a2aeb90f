// Helpers for the unit tests: a document's exact shape, with Automerge's own value types, so that
// tests can compare what JavaScript wrote with what Rust wrote beyond what either reads back.

import * as A from '../../src/core/automerge.js';

/** Every value of `doc` as `[type, value]`: 'map', 'list', 'text', 'str', 'int', 'null', ... */
export function shapeOf(doc) {
  const be = A.getBackend(doc);
  const walk = (obj, type) => {
    if (type === 'map') {
      const out = {};
      for (const key of be.keys(obj).sort()) out[key] = value(be.getWithType(obj, key));
      return out;
    }
    const out = [];
    for (let i = 0; i < be.length(obj); i++) out.push(value(be.getWithType(obj, i)));
    return out;
  };
  const value = ([type, v]) => {
    if (type === 'map' || type === 'list') return [type, walk(v, type)];
    if (type === 'text') return ['text', be.text(v)];
    // Rust writes u64 as uint, JavaScript writes int: Rust reads both (`lenient` in document.rs).
    if (type === 'uint') return ['int', Number(v)];
    return [type, v];
  };
  return walk('_root', 'map');
}

/** The paths of every scalar of a shape with the given Automerge type. */
export function pathsOfType(shape, wanted, prefix = []) {
  const out = [];
  const visit = ([type, v], path) => {
    if (type === 'map') for (const [k, child] of Object.entries(v)) visit(child, [...path, k]);
    else if (type === 'list') v.forEach((child, i) => visit(child, [...path, i]));
    else if (type === wanted) out.push(path.join('.'));
  };
  visit(['map', shape], prefix);
  return out;
}
