// Integration harness: a real emulator (HTTP on 127.0.0.1) + a real DynamoDB Local table + the real use cases.
import { randomUUID } from 'node:crypto';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type EmulatorOptions, type RunningEmulator } from '../../emulator/index.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { parseSyncConfig, type SyncConfig, type SyncConfigInput } from '../../functions/config/sync-config.schema.ts';
import { runSync, type RunSyncOptions, type SyncDeps } from '../../functions/sync/reconcile.ts';
import { ingestHrEvent } from '../../functions/sync/ingest.ts';
import { toPerson } from '../../functions/sync/people.ts';
import type { Log } from '../../functions/sync/ports.ts';
import type { Person, RunReport } from '../../functions/sync/types.ts';
import { localDynamoClient, uniqueTableName } from './dynamo.ts';

export const ORG = DEFAULT_ID;
export const INSTANCE = DEFAULT_ID;

/** A Log that keeps every line (tests assert on them, e.g. that no email leaks). */
export function memoryLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${extra ? JSON.stringify(extra) : ''}`);
  };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

export interface Harness {
  emulator: RunningEmulator;
  store: DynamoStateStore;
  api: LosantClient;
  config: SyncConfig;
  deps: SyncDeps;
  log: ReturnType<typeof memoryLog>;
  tableName: string;
  /** stores people as a snapshot of source `default` */
  roster(people: Array<Record<string, string>>, at?: string): Promise<void>;
  apply(opts?: Partial<RunSyncOptions>): Promise<RunReport>;
  plan(opts?: Partial<RunSyncOptions>): Promise<RunReport>;
  /** POSTs to the invites collection so far (from /_emulator/stats) */
  posts(): number;
  close(): Promise<void>;
}

export function person(email: string, attrs: Record<string, string> = {}): Record<string, string> {
  return { email, department: 'Engineering', ...attrs };
}

export async function startHarness(opts: { config?: Partial<SyncConfigInput>; emulator?: EmulatorOptions } = {}): Promise<Harness> {
  const emulator = await startEmulator({ port: 0, ...opts.emulator });
  const client = localDynamoClient();
  const tableName = uniqueTableName('sync');
  await createTableIfMissing(client, tableName);
  const store = new DynamoStateStore({ tableName, client });
  const log = memoryLog();
  const config = parseSyncConfig({
    targets: [{ name: 'eng', instanceId: INSTANCE, orgId: ORG, rules: [{ when: { department: 'Engineering' }, role: 'edit' }, { when: {}, role: 'view' }] }],
    ...opts.config,
  });
  // as the composition root and the CLI build it: at most `concurrency` connections
  const api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, log, connections: config.concurrency });
  const deps: SyncDeps = { api, store, clock: { now: () => Date.now() }, log };
  const run = (mode: 'apply' | 'plan') => (o: Partial<RunSyncOptions> = {}) =>
    runSync(deps, config, { mode, trigger: 'cli', deadline: Date.now() + 60_000, ...o });
  return {
    emulator,
    store,
    api,
    config,
    deps,
    log,
    tableName,
    async roster(people, at = new Date().toISOString()) {
      const list: Person[] = people.map((p) => toPerson(p));
      await ingestHrEvent(deps, { id: `t-${randomUUID()}`, type: 'roster.snapshot', occurredAt: at, source: 'default', people: list }, { targets: config.targets });
    },
    apply: run('apply'),
    plan: run('plan'),
    posts() {
      return emulator
        .stats()
        .requests.filter((r) => r.method === 'POST' && r.route === '/instances/:instanceId/orgs/:orgId/invites')
        .reduce((n, r) => n + r.count, 0);
    },
    async close() {
      await api.close();
      await emulator.close();
      client.destroy();
    },
  };
}
