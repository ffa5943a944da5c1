// invite-sync demo: embedded DynamoDB Local + the emulator in-process --> the same runSync the Lambda calls, twice.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { loadSyncConfigFile } from '../../functions/config/load-sync-config.ts';
import { parseRoster } from '../../functions/sync/roster.ts';
import { roleFor } from '../../functions/sync/rules.ts';
import { ingestHrEvent } from '../../functions/sync/ingest.ts';
import { runSync } from '../../functions/sync/reconcile.ts';
import type { Person, RunReport, Target } from '../../functions/sync/types.ts';
import { SKIP_REASONS } from '../../functions/sync/types.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalDynamoDb } from '../local-dynamodb.ts';
import { createStderrLog, isLogLevel } from '../stderr-log.ts';
import { renderTable, runExit } from '../report.ts';
import { CliError, EXIT } from '../exit-codes.ts';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const DAY = 24 * 3600 * 1000;

const WHY: Record<string, string> = {
  alreadyPending: 'already have a pending invite',
  alreadyMember: 'already accepted (org members): never re-invited',
  invitedRecently: 'invited moments ago; waiting for Losant to list it',
  renewalsExhausted: 'expired invite already renewed the maximum number of times',
  notOurs: 'have an invite invite-sync did not create: left alone',
  removedOutsideSync: 'invite revoked or membership removed by an admin by hand: not re-sent until they are re-hired',
  settling: 'a crashed run may still have their invite on the way: waiting before acting',
  roleMismatch: 'of those not ours, pending with another role than the rule gives',
  missingScope: 'resends or revocations skipped: the Losant token lacks the scope (see the warning)',
  noSeat: 'not invited: the org has no free seat (members + pending invites reach its member limit)',
};

export function register(program: Command): void {
  program
    .command('demo')
    .description('run a complete sync locally: embedded DynamoDB Local + the Losant emulator, examples/ roster and config')
    .option('--config <file>', 'sync config', join(EXAMPLES, 'sync-config.json'))
    .option('--roster <file>', 'roster', join(EXAMPLES, 'roster.csv'))
    .action(async (flags: { config: string; roster: string }) => {
      process.exitCode = await demo(flags.config, flags.roster);
    });
}

function say(text = ''): void {
  process.stdout.write(text + '\n');
}

function explain(report: RunReport): void {
  for (const t of report.targets) {
    const parts: string[] = [];
    if (t.done.invite) parts.push(`invited ${t.done.invite} new ${t.done.invite === 1 ? 'person' : 'people'}`);
    if (t.done.renew) parts.push(`renewed ${t.done.renew} expired invite${t.done.renew === 1 ? '' : 's'} it had sent`);
    if (t.done.revoke) parts.push(`revoked ${t.done.revoke}`);
    say(`  ${t.name}: ${parts.length ? parts.join(', ') : 'nothing to send'}`);
    for (const r of SKIP_REASONS) if (t.skipped[r]) say(`    - ${t.skipped[r]} ${WHY[r]}`);
  }
}

const INVITES_ROUTE = '/instances/:instanceId/orgs/:orgId/invites';

/** POSTs Losant answered: new invites (the collection) and resends (a single invite) */
function postsOf(emulator: RunningEmulator): { invites: number; resends: number; total: number } {
  let invites = 0;
  let resends = 0;
  for (const r of emulator.stats().requests) {
    if (r.method !== 'POST') continue;
    if (r.route === INVITES_ROUTE) invites += r.count;
    else resends += r.count;
  }
  return { invites, resends, total: invites + resends };
}

async function demo(configPath: string, rosterPath: string): Promise<number> {
  const level = process.env.INVITE_SYNC_LOG_LEVEL;
  const log = createStderrLog(isLogLevel(level) ? level : 'warn');
  const config = await loadSyncConfigFile(configPath);
  const text = await readFile(rosterPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`${rosterPath}: cannot read the roster (${err.code ?? err.message})`, EXIT.badInput);
  });
  const { people } = parseRoster(text, rosterPath.endsWith('.json') ? 'json' : 'csv', { maxBadRows: config.limits.maxBadRows, origin: rosterPath });
  const main = config.targets[0]!;
  const wanted = people.filter((p) => p.status === 'active' && roleFor(p, main.rules));
  if (wanted.length < 6) throw new CliError(`the demo needs at least 6 active people that ${main.name}'s rules select`, EXIT.badInput);

  say('invite-sync demo');
  say('================');
  say('Starting DynamoDB Local (in memory) and the Losant API emulator on 127.0.0.1 …');
  const ddb = await startLocalDynamoDb();
  const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const emulator = await startEmulator({ port: 0, seed: seedFor(config.targets) });
  const api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, log });
  try {
    await createTableIfMissing(client, 'invite-sync-demo');
    const store = new DynamoStateStore({ tableName: 'invite-sync-demo', client });
    const deps = { api, store, clock: { now: () => Date.now() }, log };
    const now = Date.now();
    const [m1, m2, pend, expired, revoked] = wanted as [Person, Person, Person, Person, Person];

    // What the org looks like before invite-sync's first run here:
    emulator.acceptInvite(main.instanceId, main.orgId, addInvite(emulator, main, m1.email, now - 20 * DAY).email);
    emulator.acceptInvite(main.instanceId, main.orgId, addInvite(emulator, main, m2.email, now - 15 * DAY).email);
    addInvite(emulator, main, pend.email, now - 2 * DAY);
    const old = addInvite(emulator, main, expired.email, now - 9 * DAY, true);
    addInvite(emulator, main, 'former.contractor@example.com', now - 30 * DAY, true);
    // an earlier sync (kept in DynamoDB) sent the expired invite, and one invite an admin has since revoked by hand
    const role = roleFor(expired, main.rules)!;
    await store.putLedgerEntries(main, [
      { email: expired.email, state: 'sent', role, inviteId: old.id, updatedAt: iso(now - 9 * DAY), invitedAt: iso(now - 9 * DAY), renewals: 0, runId: 'r-earlier', personEventAt: iso(now - 30 * DAY) },
      { email: revoked.email, state: 'sent', role: roleFor(revoked, main.rules)!, inviteId: 'aaaaaaaaaaaaaaaaaaaaaaaa', updatedAt: iso(now - 3 * DAY), invitedAt: iso(now - 3 * DAY), renewals: 0, runId: 'r-earlier', personEventAt: iso(now - 30 * DAY) },
    ]);
    say(`Org "${main.name}" starts with 2 members, 1 pending invite, 2 expired invites (one sent by an earlier sync),`);
    say('and one invite an admin revoked by hand after an earlier sync sent it.');
    say();

    // the roster is dated before the earlier sync's invites (30 days back): the stale guard (72 h by default) is widened for it
    await ingestHrEvent(deps, { id: 'demo-roster', type: 'roster.snapshot', occurredAt: iso(now - 30 * DAY), source: 'default', people }, { targets: config.targets, maxSnapshotAgeHours: 31 * 24 });
    say(`Roster: ${people.length} people from ${rosterPath} (${people.filter((p) => p.status === 'terminated').length} terminated).`);
    say();

    say('Run 1: apply');
    emulator.reset();
    const first = await runSync(deps, config, { mode: 'apply', trigger: 'demo', deadline: Date.now() + 120_000 });
    say(renderTable(first).trimEnd());
    say('Why:');
    explain(first);
    const p1 = postsOf(emulator);
    say(`POSTs sent to Losant: ${p1.total} (${p1.invites} new invites, ${p1.resends} resends; duplicate invites: ${emulator.stats().duplicateInvites})`);
    say();

    say('Run 2: apply again (the schedule re-checks everything)');
    emulator.reset();
    const second = await runSync(deps, config, { mode: 'apply', trigger: 'demo', deadline: Date.now() + 120_000 });
    say(renderTable(second).trimEnd());
    const posts = postsOf(emulator).total;
    say(`POSTs sent to Losant: ${posts} — ${posts === 0 ? 'in step: nothing more to send.' : 'UNEXPECTED: the second run should send nothing.'}`);
    say();
    say('Next: `invite-sync plan --config examples/sync-config.json --roster examples/roster.csv` against your own instance');
    say('(set LOSANT_API_URL and LOSANT_API_TOKEN), or read README.md.');
    const code = Math.max(runExit(first), runExit(second));
    return posts === 0 ? code : EXIT.failed;
  } finally {
    await api.close();
    await emulator.close();
    client.destroy();
    await ddb.stop();
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function addInvite(emulator: RunningEmulator, t: Target, email: string, at: number, hasExpired?: boolean) {
  return emulator.addInvite(t.instanceId, t.orgId, { email, role: 'view', inviteDate: iso(at), ...(hasExpired !== undefined ? { hasExpired } : {}) });
}

/** one instance with every org the config names, no invites yet, the default token */
function seedFor(targets: Target[]) {
  const instances = new Map<string, Set<string>>();
  for (const t of targets) {
    const set = instances.get(t.instanceId) ?? new Set<string>();
    set.add(t.orgId);
    instances.set(t.instanceId, set);
  }
  return {
    tokens: [{ token: DEFAULT_TOKEN, scopes: ['all.Instance'] }],
    instances: [...instances].map(([id, orgs]) => ({ id, orgs: [...orgs].map((o) => ({ id: o, invites: [], members: [] })) })),
  };
}
