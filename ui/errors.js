// @ts-check
// What a command's rejection says. Rust rejects with an ErrorReport already in the user's language; anything
// else (a bug, an IPC failure) is made into one, so every caller shows errors the same way.

/** @typedef {import("./types.js").ErrorReport} ErrorReport */

/**
 * @param {unknown} err what a rejected `invoke` gave
 * @returns {ErrorReport}
 */
export function toReport(err) {
  if (err && typeof err === "object" && "message" in err) return /** @type {ErrorReport} */ (err);
  return { kind: "other", message: String(err), hint: null };
}

/**
 * The message and, where there is one, the hint on one line.
 * @param {unknown} err
 */
export function reportText(err) {
  const r = toReport(err);
  return r.hint ? `${r.message} ${r.hint}` : r.message;
}
