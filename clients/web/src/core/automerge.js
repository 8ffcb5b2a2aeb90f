// The one place the app imports Automerge from. The "slim" build does not bundle the WebAssembly
// module: the browser entry point fetches it as a separate, cacheable asset and the unit tests
// load it from node_modules; both call `initializeWasm` before anything else runs.

export * from '@automerge/automerge/slim';
