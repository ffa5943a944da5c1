// emulator routes --> glob (the `filter` query parameter of the invites and members collections)

/**
 * True when `value` matches the Losant-style glob `pattern` as a whole, ignoring case.
 * Only `*` is special (any run of characters, also none); every other character, `?`, `.` and `+`
 * included, matches itself. Linear-time backtracking, so a hostile pattern cannot stall the server.
 * @example globMatch('*@example.com', 'Ann@Example.com') // true
 */
export function globMatch(pattern: string, value: string): boolean {
  const p = pattern.toLowerCase();
  const s = value.toLowerCase();
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (pi < p.length && p[pi] === s[si]) {
      pi++;
      si++;
    } else if (star !== -1) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
