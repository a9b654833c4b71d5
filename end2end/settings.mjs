// Settings the shared test server starts with and the tests rely on.

/** A person without an open console counts as offline this many seconds later (45 by
 * default): short, so the team tests see it happen. */
export const presenceGrace = 3;
