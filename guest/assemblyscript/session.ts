// session.ts — the session marker of AssemblyScript guests.
//
// A module that exports a function named wasmpool_session
// (abi.SessionMarker) keeps the session contract (replies flushed before
// every read of stdin), so a host runs it in one long-lived instance per
// kid rather than a fresh instance per batch. Only the exports of entry
// files are a module's, so asconfig.json lists this file in "entries": a
// guest built with that config exports the marker with no line of its own.
// Nobody calls it.

/** The session marker; it does nothing. */
export function wasmpool_session(): void {}
