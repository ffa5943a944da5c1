// invite-sync serve --drop-dir <dir> --> DropDirWatcher (poll <dir>/<source>/<file>) --> ingestDrop (the S3 drops' code path)
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, Log } from '../functions/sync/ports.ts';
import { DROP_PREFIX, MAX_DROP_BYTES, type DropRead } from '../functions/sync/drops.ts';
import type { DropInput, DropResult } from '../functions/handlers/ingest-drop.ts';

/** A file is read once its size and mtime have not changed for this long. */
export const DROP_STABLE_MS = 2_000;
/** How often the drop dir is listed. */
export const DROP_POLL_MS = 500;

/**
 * Files the watcher never reads: dot files, `*.tmp` and `*.part` (what editors, `rsync` and
 * downloaders write before they rename the finished file).
 * @example isIgnoredDropFile('.roster.csv.swp') // true
 */
export function isIgnoredDropFile(name: string): boolean {
  return name.startsWith('.') || /\.(tmp|part)$/i.test(name);
}

export interface DropDirWatcherOptions {
  dir: string;
  /** the use case: functions/handlers/ingest-drop.ts `ingestDrop` bound to the serve container */
  ingest: (input: DropInput) => Promise<DropResult>;
  log: Log;
  clock: Clock;
  /** default DROP_POLL_MS */
  intervalMs?: number;
  /** default DROP_STABLE_MS */
  stableMs?: number;
  /** default MAX_DROP_BYTES (50 MB) */
  maxBytes?: number;
}

interface Seen {
  size: number;
  mtimeMs: number;
  /** clock time the file was first seen with this size and mtime */
  since: number;
  /** this size and mtime were ingested (or refused): not read again */
  done: boolean;
}

/**
 * Watches `<dir>/<source>/<file>` by polling. A file counts once its size and mtime have been
 * stable for `stableMs`; it is then handed to `ingest` as key `rosters/<source>/<file>` with location
 * `file:<source>/<file>` (delivery id `file:<source>/<file>#sha256:<hex>`), its mtime as the upload
 * time. A file that changes later is read again (new bytes: a new delivery; same bytes: a duplicate).
 * A file right in `<dir>` is refused like an S3 key outside a source folder; sub-folders of a source
 * folder are not looked into. An ingest that throws (store down) is retried on the next poll.
 * @example const w = new DropDirWatcher({ dir, ingest: (i) => ingestDrop(container, i), log, clock }); w.start(); … await w.stop();
 */
export class DropDirWatcher {
  private readonly opts: Required<DropDirWatcherOptions>;
  private readonly seen = new Map<string, Seen>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;

  constructor(options: DropDirWatcherOptions) {
    this.opts = { intervalMs: DROP_POLL_MS, stableMs: DROP_STABLE_MS, maxBytes: MAX_DROP_BYTES, ...options };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.opts.intervalMs);
  }

  /** Stops polling and waits for a poll under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over the drop dir (a pass already under way is not started twice). Resolves with what was ingested. */
  poll(): Promise<void> {
    if (this.running) return this.running;
    const pass = this.pass().finally(() => {
      this.running = undefined;
    });
    this.running = pass.catch((err: unknown) => this.opts.log.error('drop dir: poll failed', { dir: this.opts.dir, error: (err as Error).message }));
    return this.running;
  }

  private async pass(): Promise<void> {
    const { dir } = this.opts;
    const present = new Set<string>();
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (isIgnoredDropFile(entry.name)) continue;
      if (entry.isFile()) {
        await this.consider(entry.name, join(dir, entry.name), present);
      } else if (entry.isDirectory()) {
        let files;
        try {
          files = await readdir(join(dir, entry.name), { withFileTypes: true });
        } catch {
          continue; // removed meanwhile
        }
        for (const f of files) {
          if (f.isFile() && !isIgnoredDropFile(f.name)) await this.consider(`${entry.name}/${f.name}`, join(dir, entry.name, f.name), present);
        }
      }
    }
    for (const rel of [...this.seen.keys()]) if (!present.has(rel)) this.seen.delete(rel);
  }

  private async consider(rel: string, path: string, present: Set<string>): Promise<void> {
    let st;
    try {
      st = await stat(path);
    } catch {
      return; // renamed or removed between the listing and now
    }
    present.add(rel);
    const now = this.opts.clock.now();
    const prev = this.seen.get(rel);
    if (!prev || prev.size !== st.size || prev.mtimeMs !== st.mtimeMs) {
      this.seen.set(rel, { size: st.size, mtimeMs: st.mtimeMs, since: now, done: false });
      return;
    }
    if (prev.done || now - prev.since < this.opts.stableMs) return;
    const lastModified = st.mtime;
    const read = async (): Promise<DropRead> => {
      if (st.size > this.opts.maxBytes) return { kind: 'tooLarge', size: st.size };
      try {
        const bytes = await readFile(path);
        if (bytes.byteLength > this.opts.maxBytes) return { kind: 'tooLarge', size: bytes.byteLength };
        return { kind: 'object', bytes, lastModified };
      } catch {
        return { kind: 'missing' };
      }
    };
    try {
      const result = await this.opts.ingest({ location: `file:${rel}`, key: `${DROP_PREFIX}${rel}`, read });
      prev.done = true;
      this.opts.log.info('drop dir: file handled', { file: rel, status: result.status });
    } catch (err) {
      this.opts.log.error('drop dir: ingest failed; retried on the next poll', { file: rel, error: (err as Error).message });
    }
  }
}
