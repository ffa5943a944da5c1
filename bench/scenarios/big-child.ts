// bench/scenarios/big.ts (parent) --> big-child (fresh process) --> runSync apply twice: full read-plan-apply, then converged
//
// Its own process so that process.resourceUsage().maxRSS is the run's, not the bench's (the emulator and
// DynamoDB Local run elsewhere). argv[2]: the JSON of ChildInput; argv[3]: `full` (a full run, then a
// converged run in the same, warm process) or `converged` (one converged run: its own peak RSS).
// Prints one JSON line (ChildOutput).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../cli/local-dynamodb.ts';
import { DEFAULT_TOKEN, type EmulatorStats } from '../../emulator/index.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { DynamoStateStore, type StateStoreStats } from '../../functions/state/dynamo-store.ts';
import { runSync } from '../../functions/sync/reconcile.ts';
import { systemClock } from '../../functions/sync/ports.ts';
import type { ActionCounts } from '../../functions/sync/types.ts';
import { quietLog } from '../lib/context.ts';
import { DynamoMeter, type MeterSummary } from '../lib/dynamo-meter.ts';
import { countRequests, ROUTES } from '../lib/remote-emulator.ts';
import { BENCH_RULES } from '../lib/roster.ts';

export interface ChildInput {
  endpoint: string;
  tableName: string;
  emulatorUrl: string;
  instanceId: string;
  orgId: string;
  /** ms each run may take (runSync's deadline) */
  runBudgetMs: number;
}

export interface LosantCounts {
  posts: number;
  getOrg: number;
  getInvites: number;
  getMembers: number;
  other: number;
  duplicateInvites: number;
}

export interface RunOut {
  ms: number;
  /** user + system CPU of this process during the run */
  cpuMs: number;
  /** process.resourceUsage().maxRSS after the run: the process's peak so far */
  maxRssMb: number;
  complete: boolean;
  error?: string;
  desired: number;
  pending: number;
  members: number;
  planned: ActionCounts | null;
  done: ActionCounts | null;
  failed: number;
  store: StateStoreStats;
  meter: MeterSummary;
  losant: LosantCounts;
  warnings: string[];
  /** info, warn and error lines of the run by message (a POST answered late shows as its lookup) */
  messages: Record<string, number>;
}

export interface ChildOutput {
  /** maxRSS once everything is imported and the clients exist, before any run */
  idleRssMb: number;
  /** absent in mode `converged` */
  full?: RunOut;
  converged: RunOut;
}

const maxRssMb = (): number => process.resourceUsage().maxRSS / 1024;

async function emulator(url: string, path: 'stats' | 'reset'): Promise<EmulatorStats | null> {
  const res = await fetch(`${url}/_emulator/${path}`, { method: path === 'reset' ? 'POST' : 'GET' });
  if (!res.ok) throw new Error(`emulator ${path}: HTTP ${res.status}`);
  const body = (await res.json()) as EmulatorStats;
  return path === 'stats' ? body : null;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '') as ChildInput;
  const mode = process.argv[3];
  if (mode !== 'full' && mode !== 'converged') throw new Error(`usage: big-child.ts <ChildInput JSON> full|converged (got ${mode})`);
  const client = new DynamoDBClient({ endpoint: input.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const meter = DynamoMeter.attach(client);
  const store = new DynamoStateStore({ tableName: input.tableName, client });
  const base = quietLog();
  const messages: Record<string, number> = {};
  const counted = (level: 'info' | 'warn' | 'error') => (message: string, extra?: Record<string, unknown>) => {
    messages[`${level} ${message}`] = (messages[`${level} ${message}`] ?? 0) + 1;
    base[level](message, extra);
  };
  const log = { ...base, info: counted('info'), warn: counted('warn'), error: counted('error') };
  const api = new LosantClient({ baseUrl: input.emulatorUrl, token: DEFAULT_TOKEN, log });
  // the stage's defaults: the prod sync config names its own targets; this one target stands for them
  const config = parseSyncConfig({ targets: [{ name: 'big', instanceId: input.instanceId, orgId: input.orgId, rules: BENCH_RULES }] });
  const idleRssMb = maxRssMb();

  const run = async (): Promise<RunOut> => {
    await emulator(input.emulatorUrl, 'reset');
    store.resetStats();
    meter.reset();
    base.warnings.length = 0;
    for (const k of Object.keys(messages)) delete messages[k];
    const cpu = process.cpuUsage();
    const start = performance.now();
    const report = await runSync({ api, store, clock: systemClock, log }, config, { mode: 'apply', trigger: 'schedule', deadline: Date.now() + input.runBudgetMs });
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const rss = maxRssMb();
    const stats = (await emulator(input.emulatorUrl, 'stats'))!;
    const t = report.targets[0];
    const posts = countRequests(stats, { method: 'POST' });
    const getOrg = countRequests(stats, { method: 'GET', route: ROUTES.org });
    const getInvites = countRequests(stats, { method: 'GET', route: ROUTES.invites });
    const getMembers = countRequests(stats, { method: 'GET', route: ROUTES.members });
    return {
      ms,
      cpuMs: (used.user + used.system) / 1000,
      maxRssMb: rss,
      complete: report.complete,
      ...(t?.error ? { error: `${t.error.code}: ${t.error.message}` } : t?.blocked ? { error: `blocked: ${t.blocked}` } : {}),
      desired: t?.desired ?? 0,
      pending: t?.pending ?? 0,
      members: t?.members ?? 0,
      planned: t?.planned ?? null,
      done: t?.done ?? null,
      failed: t?.failed ?? 0,
      store: store.stats(),
      meter: meter.summary(),
      losant: { posts, getOrg, getInvites, getMembers, other: countRequests(stats, {}) - posts - getOrg - getInvites - getMembers, duplicateInvites: stats.duplicateInvites },
      warnings: [...base.warnings],
      messages: { ...messages },
    };
  };

  const full = mode === 'full' ? await run() : undefined;
  const converged = await run();
  await api.close();
  client.destroy();
  process.stdout.write(`${JSON.stringify({ idleRssMb, ...(full ? { full } : {}), converged } satisfies ChildOutput)}\n`);
}

await main();
