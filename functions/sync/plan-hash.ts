// planner --> hashPlan (approvals and run records are bound to this hash)
import { createHash } from 'node:crypto';
import type { Action } from './types.ts';

/** Lines per hash.update (a power of two). */
const CHUNK_LINES = 256;

/** The canonical order: kind, email, inviteId, role (the planner already emits actions in it). */
function compareCanonical(a: Action, b: Action): number {
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.email !== b.email) return a.email < b.email ? -1 : 1;
  const ia = a.inviteId ?? '';
  const ib = b.inviteId ?? '';
  if (ia !== ib) return ia < ib ? -1 : 1;
  return a.role === b.role ? 0 : a.role < b.role ? -1 : 1;
}

/**
 * A stable sha256 (hex) of what a plan would change: kind, email, role and inviteId of every
 * action, independent of their order. Counts, times and renewals do not enter it.
 * @example hashPlan(plan.actions) === plan.hash
 */
export function hashPlan(actions: readonly Action[]): string {
  let list = actions;
  for (let i = 1; i < list.length; i++) {
    if (compareCanonical(list[i - 1]!, list[i]!) > 0) {
      list = [...actions].sort(compareCanonical);
      break;
    }
  }
  const hash = createHash('sha256').update('invite-sync/plan/v1\n');
  // NUL never occurs in a kind, an address, a role or an id, and LF ends each line: unambiguous.
  // Lines go into the hash in chunks of whole lines (UTF-8 of the parts = UTF-8 of the whole, as
  // no chunk ends inside a surrogate pair): the same digest as one big string, without building it.
  let chunk = '';
  for (let i = 0; i < list.length; i++) {
    const a = list[i]!;
    chunk = chunk + a.kind + '\u0000' + a.email + '\u0000' + a.role + '\u0000' + (a.inviteId ?? '') + '\n';
    if ((i & (CHUNK_LINES - 1)) === CHUNK_LINES - 1) {
      hash.update(chunk);
      chunk = '';
    }
  }
  return hash.update(chunk).digest('hex');
}
