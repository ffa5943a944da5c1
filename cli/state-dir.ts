// CLI runtime --> openStateDir: the state directory (default ./.invite-sync/) and its lock.json.
//
// The first process to open a state dir writes lock.json {pid, startedAt, endpoint, …} and serves the
// directory's DynamoDB Local; later processes connect to that endpoint while the holder lives. A lock
// whose holder is gone (no process with that pid and start) is stale: its JVM, if it outlived its
// parent, is stopped, and the lock is taken. Only while the holder serves no endpoint (it is still
// starting it) does a second process wait, up to `waitMs`, then fail with `state dir in use by pid N`.
import { link, mkdir, readFile, rename, rm, stat, writeFile, access, chmod } from 'node:fs/promises';
import { constants } from 'node:fs';
import { readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { CliError, EXIT } from './exit-codes.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalDynamoDb, type LocalDynamoDb } from './local-dynamodb.ts';
import { processAlive, processStartToken } from './process-info.ts';

/** Where state lives without --state-dir, DYNAMODB_ENDPOINT or STATE_TABLE (relative to the working directory). */
export const DEFAULT_STATE_DIR = '.invite-sync';
export const LOCK_FILE = 'lock.json';

/** lock.json: read tolerantly (unknown keys kept out), written whole by one rename or link. */
export const LockSchema = z.object({
  pid: z.number().int().positive(),
  startedAt: z.string(),
  endpoint: z.string().nullable(),
  host: z.string().optional(),
  processStart: z.string().optional(),
  jvmPid: z.number().int().positive().optional(),
  jvmStart: z.string().optional(),
});
export type Lock = z.infer<typeof LockSchema>;

/** An open state dir: as its holder (we serve the DynamoDB Local) or as a guest of the holder's endpoint. */
export interface OpenStateDir {
  dir: string;
  endpoint: string;
  role: 'holder' | 'guest';
  /** the holder pid (ours when role is holder) */
  holderPid: number;
  /** holder: stops the JVM and removes lock.json; guest: nothing */
  close(): Promise<void>;
}

export interface OpenStateDirOptions {
  /** how long to wait for a holder that serves no endpoint yet (ms) */
  waitMs: number;
  /** for tests: how the JVM is started */
  start?: (dir: string) => Promise<LocalDynamoDb>;
  /** poll interval while waiting (ms); default 200 */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The state dir as an absolute path: `--state-dir` (relative to the working directory) or ./.invite-sync.
 * @example resolveStateDir(undefined) // '/home/me/project/.invite-sync'
 */
export function resolveStateDir(flag: string | undefined, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? DEFAULT_STATE_DIR);
}

/** Creates the directory (mode 0700) or checks that it is a writable directory; exit 2 naming --ephemeral if not. */
async function prepareDir(dir: string): Promise<void> {
  const unusable = (why: string) =>
    new CliError(`state dir ${dir} cannot be used (${why}): pass --state-dir <dir> you can write to, or --ephemeral for a throwaway in-memory store`, EXIT.badInput, {
      code: 'stateDir',
    });
  try {
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) await chmod(dir, 0o700);
    if (!(await stat(dir)).isDirectory()) throw unusable('not a directory');
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw unusable((err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
}

async function readLock(path: string): Promise<{ lock: Lock | null; text: string } | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const parsed = LockSchema.safeParse(JSON.parse(text));
    return { lock: parsed.success ? parsed.data : null, text };
  } catch {
    return { lock: null, text };
  }
}

/** Writes `lock` to lock.json atomically: `exclusive` creates it only if absent (link), else replaces it (rename). */
async function writeLock(dir: string, lock: Lock, exclusive: boolean): Promise<boolean> {
  const tmp = join(dir, `.lock-${process.pid}-${randomUUID().slice(0, 8)}.tmp`);
  await writeFile(tmp, JSON.stringify(lock) + '\n', { mode: 0o600 });
  try {
    if (!exclusive) {
      await rename(tmp, join(dir, LOCK_FILE));
      return true;
    }
    try {
      await link(tmp, join(dir, LOCK_FILE));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Removes a stale lock, unless another process replaced it meanwhile (then it is put back). */
async function removeStaleLock(dir: string, staleText: string): Promise<void> {
  const aside = join(dir, `.stale-${process.pid}-${randomUUID().slice(0, 8)}.json`);
  try {
    await rename(join(dir, LOCK_FILE), aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  if (moved !== staleText) await link(aside, join(dir, LOCK_FILE)).catch(() => undefined);
  await rm(aside, { force: true });
}

/** Stops a JVM the dead holder left behind (same pid and start), waiting up to 5 s for it to go. */
async function reapJvm(lock: Lock): Promise<void> {
  if (!lock.jvmPid || !processAlive(lock.jvmPid, lock.jvmStart)) return;
  // without a recorded start we cannot tell the JVM from a process that reused its pid: leave it
  if (lock.jvmStart === undefined) return;
  try {
    process.kill(lock.jvmPid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (processAlive(lock.jvmPid, lock.jvmStart)) {
    if (Date.now() > deadline) {
      try {
        process.kill(lock.jvmPid, 'SIGKILL');
      } catch {
        // gone
      }
      await sleep(200);
      break;
    }
    await sleep(100);
  }
}

async function answers(endpoint: string): Promise<boolean> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: { requestTimeout: 2000 } });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/**
 * Opens a state dir: becomes its holder (starts DynamoDB Local on it, writes lock.json) or joins the
 * holder's endpoint. Exit 2 for a dir that cannot be used, exit 4 `state dir … in use by pid N` when the
 * holder serves no endpoint within `waitMs`.
 * @example const state = await openStateDir(resolveStateDir(flags.stateDir), { waitMs: 0 }); …; await state.close();
 */
export async function openStateDir(dir: string, opts: OpenStateDirOptions): Promise<OpenStateDir> {
  await prepareDir(dir);
  const lockPath = join(dir, LOCK_FILE);
  const start = opts.start ?? ((path: string) => startLocalDynamoDb({ path }));
  const waitUntil = Date.now() + opts.waitMs;
  const me: Lock = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    endpoint: null,
    host: hostname(),
    ...(processStartToken(process.pid) ? { processStart: processStartToken(process.pid)! } : {}),
  };
  for (;;) {
    if (await writeLock(dir, me, true)) return becomeHolder(dir, me, start);
    const found = await readLock(lockPath);
    if (found === null) continue; // removed meanwhile: try again
    const lock = found.lock;
    if (lock && !processAlive(lock.pid, lock.processStart)) {
      await reapJvm(lock);
      await removeStaleLock(dir, found.text);
      continue;
    }
    if (lock?.endpoint && (await answers(lock.endpoint))) {
      return { dir, endpoint: lock.endpoint, role: 'guest', holderPid: lock.pid, close: async () => {} };
    }
    if (Date.now() >= waitUntil) {
      const who = lock ? `pid ${lock.pid} (since ${lock.startedAt})` : 'another process (lock.json is unreadable)';
      throw new CliError(`state dir ${dir} in use by ${who}, which serves no DynamoDB endpoint yet; wait for it, pass --wait <seconds>, or use --ephemeral`, EXIT.couldNotRun, {
        code: 'stateDirBusy',
        ...(lock ? { details: { pid: lock.pid } } : {}),
      });
    }
    await sleep(opts.pollMs ?? 200);
  }
}

async function becomeHolder(dir: string, me: Lock, start: (dir: string) => Promise<LocalDynamoDb>): Promise<OpenStateDir> {
  const lockPath = join(dir, LOCK_FILE);
  // a process exit of any kind (process.exit, an uncaught error) takes the JVM and the lock with it
  let local: LocalDynamoDb | undefined;
  const onExit = () => {
    local?.kill();
    releaseLockSync(lockPath, me.pid);
  };
  process.on('exit', onExit);
  try {
    local = await start(dir);
  } catch (err) {
    process.off('exit', onExit);
    await rm(lockPath, { force: true });
    throw new CliError(`could not start the embedded DynamoDB Local in ${dir}: ${(err as Error).message}`, EXIT.couldNotRun);
  }
  const jvmStart = processStartToken(local.pid);
  const served: Lock = { ...me, endpoint: local.endpoint, jvmPid: local.pid, ...(jvmStart ? { jvmStart } : {}) };
  await writeLock(dir, served, false);
  const running = local;
  return {
    dir,
    endpoint: running.endpoint,
    role: 'holder',
    holderPid: me.pid,
    close: async () => {
      await running.stop();
      releaseLockSync(lockPath, me.pid);
      process.off('exit', onExit);
    },
  };
}

/** Removes lock.json if it is still ours (synchronous, for 'exit' handlers). */
function releaseLockSync(lockPath: string, pid: number): void {
  try {
    const lock = LockSchema.safeParse(JSON.parse(readFileSync(lockPath, 'utf8')));
    if (lock.success && lock.data.pid === pid) rmSync(lockPath, { force: true });
  } catch {
    // absent or unreadable: not ours to remove
  }
}
