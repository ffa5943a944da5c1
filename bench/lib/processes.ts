// bench scenarios --> processes: child processes and servers the bench starts, and their cleanup
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/lib/../..). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Something to stop when a scenario ends or the bench is interrupted. */
type Task = { name: string; fn: () => Promise<void> | void };

const liveScopes = new Set<Scope>();
const liveChildren = new Set<ChildProcess>();

/** Collects what a scenario starts; `close()` stops it all in reverse order (each step bounded). */
export class Scope {
  private readonly tasks: Task[] = [];
  constructor(readonly name: string) {
    liveScopes.add(this);
  }

  /** Registers a stop function; it runs once, on `close()`. */
  defer(name: string, fn: () => Promise<void> | void): void {
    this.tasks.push({ name, fn });
  }

  /** Runs every stop function (latest first); failures are written to stderr, never thrown. */
  async close(): Promise<void> {
    liveScopes.delete(this);
    while (this.tasks.length) {
      const task = this.tasks.pop()!;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(task.fn),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timed out after 10 s')), 10_000);
          }),
        ]);
      } catch (err) {
        process.stderr.write(`bench: cleanup of ${this.name}/${task.name} failed: ${(err as Error).message}\n`);
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/**
 * Runs `fn` with a fresh scope and closes the scope whatever happens.
 * @example await withScope('planner', async (scope) => { scope.defer('x', stop); ... })
 */
export async function withScope<T>(name: string, fn: (scope: Scope) => Promise<T>): Promise<T> {
  const scope = new Scope(name);
  try {
    return await fn(scope);
  } finally {
    await scope.close();
  }
}

/** Closes every live scope, then kills any child still running (by its own handle). For signals and crashes. */
export async function closeEverything(): Promise<void> {
  for (const scope of [...liveScopes].reverse()) await scope.close();
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export class ChildProcessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChildProcessError';
  }
}

function track(child: ChildProcess): ChildProcess {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  child.once('error', () => liveChildren.delete(child));
  return child;
}

/**
 * Forks a node module with an IPC channel (stdout ignored, stderr kept by the caller), tracked for cleanup.
 * @example const child = forkNode('bench/lib/emulator-host.ts', ['--import', 'tsx']);
 */
export function forkNode(script: string, execArgv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return track(fork(script, [], { cwd: ROOT, execArgv, env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** wall time from spawn to exit */
  ms: number;
}

export interface RunOptions {
  /** node flags before the script, e.g. ['--import', 'tsx'] */
  execArgv?: string[];
  /** the child's whole environment (default: this process's) */
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  cwd?: string;
  /** the node binary (default: the one running the bench), e.g. Node 22 from `npx -y node@22` */
  node?: string;
}

/**
 * Runs `node [execArgv] script [args]` to its end and collects its output. Killed (SIGKILL) at the timeout.
 * @example const r = await runNode('bench/scenarios/planner-child.ts', ['rss-plan'], { execArgv: ['--import', 'tsx'], timeoutMs: 60_000 });
 */
export function runNode(script: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = track(
      spawn(options.node ?? process.execPath, [...(options.execArgv ?? []), script, ...args], {
        cwd: options.cwd ?? ROOT,
        env: options.env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-20_000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new ChildProcessError(`could not run ${script}: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - start });
    });
  });
}

/**
 * The last line of a child's stdout parsed as JSON; throws with the child's stderr when it failed.
 * @example const data = lastJsonLine(await runNode(...), 'planner child');
 */
export function lastJsonLine<T>(result: RunResult, what: string): T {
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.code !== 0 || !line.startsWith('{')) {
    throw new ChildProcessError(`${what} failed (exit ${result.code ?? result.signal}): ${errorSummary(result.stderr)}`);
  }
  return JSON.parse(line) as T;
}

/**
 * The line of a child's stderr that names the error, and the first stack frame after it
 * (or the end of stderr when no line looks like an error).
 * @example errorSummary('…\nReferenceError: x is not defined\n    at f (a.ts:1:1)\n') // 'ReferenceError: x is not defined (at f (a.ts:1:1))'
 */
export function errorSummary(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  const i = lines.findIndex((l) => /^[A-Za-z]*(Error|Exception)\b.*:/.test(l));
  if (i < 0) return stderr.trim().slice(-300);
  const frame = lines.slice(i + 1).find((l) => l.startsWith('at '));
  return frame ? `${lines[i]} (${frame})` : lines[i]!;
}

export interface RunningServer {
  /** the URL of its `listening on <url>` line */
  url: string;
  child: ChildProcess;
  /** the last few KB of its stderr (logs) */
  stderrTail(): string;
  stop(): Promise<void>;
}

/**
 * Starts a long-running node process and resolves once it prints `listening on <url>` on stdout.
 * The scope stops it (SIGTERM, SIGKILL after 3 s).
 * @example const srv = await startServer(scope, 'bin/invite-sync.js', ['serve', '--port', '0'], { env, timeoutMs: 30_000 });
 */
export async function startServer(scope: Scope, script: string, args: string[], options: RunOptions): Promise<RunningServer> {
  const child = track(
    spawn(process.execPath, [...(options.execArgv ?? []), script, ...args], {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8000); });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  scope.defer(`${script} ${args[0] ?? ''}`.trim(), stop);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ChildProcessError(`${script} did not print "listening on" within ${options.timeoutMs} ms: ${stderr.slice(-800)}`)), options.timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      if (stdout.length > 8000) return; // listening long ago: keep draining, stop keeping
      stdout += d.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new ChildProcessError(`${script} exited (${code ?? signal}) before listening: ${stderr.slice(-800)}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new ChildProcessError(`could not start ${script}: ${err.message}`, { cause: err }));
    });
  });
  return { url, child, stderrTail: () => stderr, stop };
}

/** Node flags that let a child run TypeScript (the tsx loader). */
export const execArgvTsx = (): string[] => ['--import', 'tsx'];
