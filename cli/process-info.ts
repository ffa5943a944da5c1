// CLI --> this host's processes: is a pid alive, and is it still the process that started then (pid reuse)?
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { LeaseHolder } from '../functions/sync/ports.ts';

let bootId: string | null | undefined;

/** Linux's boot id (first 8 hex digits): a start token from another boot never matches. */
function linuxBootId(): string | null {
  if (bootId !== undefined) return bootId;
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replaceAll('-', '').slice(0, 8);
  } catch {
    bootId = null;
  }
  return bootId;
}

/**
 * An opaque token of when process `pid` started, or null when it does not exist (or this OS cannot tell).
 * Linux: `linux:<boot id>:<starttime ticks>` from /proc; elsewhere `ps:<lstart>`. Clock-free: a faked clock
 * (libfaketime) does not change it.
 * @example processStartToken(process.pid) // 'linux:697663c4:392469'
 */
export function processStartToken(pid: number): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const start = fields[19];
      return start ? `linux:${linuxBootId() ?? '?'}:${start}` : null;
    } catch {
      return null;
    }
  }
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return out ? `ps:${out}` : null;
  } catch {
    return null;
  }
}

/** True when a process with this pid exists (EPERM counts: it exists, it is just not ours). */
export function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when the process `pid` that started at `startToken` still runs. Without a token (or when this
 * OS cannot tell start times), any process with that pid counts.
 */
export function processAlive(pid: number, startToken: string | undefined): boolean {
  if (!pidExists(pid)) return false;
  if (startToken === undefined) return true;
  const now = processStartToken(pid);
  return now === null || now === startToken;
}

/** This process as a lease holder: host name, pid, start token. */
export function thisHolder(): LeaseHolder {
  const start = processStartToken(process.pid);
  return { host: hostname(), pid: process.pid, ...(start ? { processStart: start } : {}) };
}

/**
 * True for a holder that was a process on this host that is gone (no process with that pid and start).
 * A holder on another host is never judged gone: only its lease's expiry frees it.
 */
export function holderGone(holder: LeaseHolder): boolean {
  return holder.host === hostname() && !processAlive(holder.pid, holder.processStart);
}
