// tests --> the CLI as a child process (`node bin/invite-sync.js …`): the one way tests spawn it
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '../../bin/invite-sync.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from spawn to exit */
  ms: number;
}

/**
 * `node bin/invite-sync.js <args>` with only PATH and `env` in its environment, stdout/stderr piped.
 * @example const child = spawnBin(['plan', '--config', file], { LOSANT_API_URL: url })
 */
export function spawnBin(args: string[], env: Record<string, string>, opts: { cwd?: string } = {}) {
  return spawn(process.execPath, [BIN, ...args], {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Runs `node bin/invite-sync.js …` with only PATH and `env` in its environment.
 * `killAfterMs` sends `signal` (default SIGKILL: no cleanup of any kind can run in the child) that long
 * after the spawn; `killWhen` is polled every 5 ms and sends it once, when it first returns true.
 * @example const r = await runCli(['apply', '--config', c, '--json'], env, { killWhen: () => posts() >= 10 })
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
  opts: { killAfterMs?: number; killWhen?: () => boolean; signal?: NodeJS.Signals; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawnBin(args, env, opts.cwd ? { cwd: opts.cwd } : {});
    const sig = opts.signal ?? 'SIGKILL';
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = opts.killAfterMs === undefined ? undefined : setTimeout(() => child.kill(sig), opts.killAfterMs);
    const killWhen = opts.killWhen;
    let sent = false;
    const poll = killWhen === undefined ? undefined : setInterval(() => {
      // once: a second SIGINT/SIGTERM would make the CLI exit without finishing its in-flight work
      if (!sent && killWhen()) {
        sent = true;
        child.kill(sig);
      }
    }, 5);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export interface RunningCli {
  pid: number | undefined;
  stdout(): string;
  stderr(): string;
  /** resolves with the first match of `re` on stdout, or rejects after `timeoutMs` */
  waitForStdout(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  signal(sig: NodeJS.Signals): void;
  exited: Promise<CliResult>;
}

/**
 * Starts a long-running CLI command (e.g. `serve`) with only PATH and `env` in its environment.
 * @example const s = spawnCli(['serve', '--config', c, '--port', '0'], env); const [, url] = await s.waitForStdout(/listening on (\S+)/, 30_000);
 */
export function spawnCli(args: string[], env: Record<string, string>, opts: { cwd?: string } = {}): RunningCli {
  const started = Date.now();
  const child = spawnBin(args, env, opts);
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  return {
    pid: child.pid,
    stdout: () => stdout,
    stderr: () => stderr,
    signal: (sig) => void child.kill(sig),
    exited,
    waitForStdout: (re, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${String(re)} on stdout in ${timeoutMs} ms; stderr: ${stderr.slice(-500)}`)), timeoutMs);
        const check = (): void => {
          const m = re.exec(stdout);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            reject(new Error(`exited before ${String(re)} appeared; stderr: ${stderr.slice(-500)}`));
          } else waiters.push(check);
        };
        check();
      }),
  };
}

/** Where Debian/Ubuntu's libfaketime lives (npm run test:future and .ci/run install it). */
export const FAKETIME_LIB = process.env.INVITE_SYNC_FAKETIME_LIB ?? '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/**
 * Environment for a CLI child whose clock runs `seconds` ahead of this process's (libfaketime;
 * the offset of `npm run test:future`, INVITE_SYNC_FUTURE_DAYS, is kept). For tests that must look
 * past a wait the CLI enforces on real time (e.g. SETTLE_SECONDS after a crashed run).
 * @example await runCli(['apply', '--config', c, '--json'], { ...env, ...clockAheadEnv(120) })
 */
export function clockAheadEnv(seconds: number): Record<string, string> {
  // without the library the child would run on today's clock and the test would fail for another reason
  if (!existsSync(FAKETIME_LIB)) throw new Error(`libfaketime is not installed at ${FAKETIME_LIB}: apt-get install -y faketime (or set INVITE_SYNC_FAKETIME_LIB)`);
  const days = Number(process.env.INVITE_SYNC_FUTURE_DAYS ?? 0);
  return { LD_PRELOAD: FAKETIME_LIB, FAKETIME: `+${days * 86_400 + seconds}s` };
}
