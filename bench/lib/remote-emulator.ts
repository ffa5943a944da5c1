// bench scenarios --> RemoteEmulator (IPC) --> emulator-host child --> the Losant emulator on real HTTP
import type { ChildProcess } from 'node:child_process';
import type { EmulatorFaults, EmulatorInvite, EmulatorOptions, EmulatorStats } from '../../emulator/index.ts';
import { ROUTE } from '../../emulator/contract.ts';
import type { HostReply, HostRequest } from './emulator-host.ts';
import { forkNode, type Scope } from './processes.ts';

type Omitted<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The emulator in a child process: the same surface as RunningEmulator, asynchronous. */
export interface RemoteEmulator {
  url: string;
  stats(): Promise<EmulatorStats>;
  reset(): Promise<void>;
  setFaults(f: EmulatorFaults): Promise<void>;
  invites(instanceId: string, orgId: string): Promise<EmulatorInvite[]>;
  /** the emulator process's CPU so far (process.cpuUsage, µs) */
  cpu(): Promise<NodeJS.CpuUsage>;
  /** a static sender in the emulator's process (emulator-host.ts startStatic): its URL; every answer `bytes` long */
  staticSender(bytes: number, latencyMs: number): Promise<string>;
  close(): Promise<void>;
}

export class RemoteEmulatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RemoteEmulatorError';
  }
}

/**
 * Starts the emulator in its own node process; the scope closes it.
 * @example const emu = await startRemoteEmulator(scope, { latencyMs: 25 }); (await emu.stats()).duplicateInvites
 */
export async function startRemoteEmulator(scope: Scope, options: EmulatorOptions = {}): Promise<RemoteEmulator> {
  const child: ChildProcess = forkNode(new URL('./emulator-host.ts', import.meta.url).pathname, ['--import', 'tsx']);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const failAll = (why: string) => {
    for (const w of waiting.values()) w.reject(new RemoteEmulatorError(`emulator host ${why}: ${stderr.slice(-600)}`));
    waiting.clear();
  };
  child.on('message', (reply: HostReply) => {
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if (reply.ok) w.resolve(reply.value);
    else w.reject(new RemoteEmulatorError(reply.error));
  });
  child.once('exit', (code, signal) => failAll(`exited (${code ?? signal})`));
  child.once('error', (err) => failAll(`failed: ${err.message}`));

  const call = <T>(req: Omitted<HostRequest>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (child.exitCode !== null || !child.connected) return reject(new RemoteEmulatorError('emulator host is not running'));
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...req, id });
    });

  const close = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await call({ op: 'close' }).catch(() => child.kill('SIGKILL'));
    await exited;
    clearTimeout(timer);
  };
  scope.defer('emulator', close);
  const { url } = await call<{ url: string }>({ op: 'start', options });
  return {
    url,
    stats: () => call<EmulatorStats>({ op: 'stats' }),
    reset: () => call<void>({ op: 'reset' }),
    setFaults: (faults) => call<void>({ op: 'setFaults', faults }),
    invites: (instanceId, orgId) => call<EmulatorInvite[]>({ op: 'invites', instanceId, orgId }),
    cpu: () => call<NodeJS.CpuUsage>({ op: 'cpu' }),
    staticSender: async (bytes, latencyMs) => (await call<{ url: string }>({ op: 'static', bytes, latencyMs })).url,
    close,
  };
}

/** Requests an emulator answered, by method, route and status (summed). */
export function countRequests(stats: EmulatorStats, filter: { method?: string; route?: string; status?: (s: number) => boolean }): number {
  return stats.requests
    .filter((r) => (filter.method === undefined || r.method === filter.method) && (filter.route === undefined || r.route === filter.route) && (filter.status === undefined || filter.status(r.status)))
    .reduce((n, r) => n + r.count, 0);
}

/** Route templates as the emulator's stats name them. */
export const ROUTES = ROUTE;
