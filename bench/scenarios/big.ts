// bench/run.ts --> scenario 11 --> one-time seed (replaceSource timed) + emulator (own process) --> big-child: full apply, then converged run
//
// 100 000 people in one DynamoDB Local table, an org where all but MISSING of them are pending or members.
// The seed is the slow part (a 100 000-row replaceSource, ~45 s on DynamoDB Local), so it runs once per
// invocation, never per repetition; the measured runs happen once each, in fresh child processes.
import { sentLedger } from '../lib/seed-people.ts';
import { DEFAULT_ID, DEFAULT_TOKEN } from '../../emulator/index.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { loadStageConfig } from '../../lib/stages.ts';
import type { Scenario } from '../lib/context.ts';
import { DynamoMeter, type PrefixTally } from '../lib/dynamo-meter.ts';
import { execArgvTsx, lastJsonLine, runNode } from '../lib/processes.ts';
import { startRemoteEmulator } from '../lib/remote-emulator.ts';
import { within, type Row } from '../lib/report.ts';
import { emailOf, orgIdOf, people } from '../lib/roster.ts';
import { round } from '../lib/stats.ts';
import type { ChildInput, ChildOutput, RunOut } from './big-child.ts';

const ID = '11';
const STAGE = 'prod';
const PEOPLE = 100_000;
/** people the org lacks: the full run's invites (each POST answer lists every pending invite, ~455 bytes each) */
const MISSING = 100;
/** people 0 … PENDING−1 hold a pending invite (sent a day ago), the next MEMBERS are members */
const PENDING = 79_000;
const MEMBERS = PEOPLE - PENDING - MISSING;
const CHILD = new URL('./big-child.ts', import.meta.url).pathname;
const RCU_BYTES = 4096;

const sumTallies = (m: Record<string, PrefixTally>, f: (t: PrefixTally) => number): number => Object.values(m).reduce((n, t) => n + f(t), 0);
const people0 = (r: RunOut): PrefixTally => r.meter.byPrefix.PEOPLE ?? { reads: 0, itemsRead: 0, bytesRead: 0, readUnits: 0, writes: 0, itemsWritten: 0, writeUnits: 0 };
const actions = (c: RunOut['planned']): number => (c ? Object.values(c).reduce((a, b) => a + b, 0) : -1);

/** Scenario 11: 100 000 people — a one-time snapshot, a full read-plan-apply run and a converged run, RSS of a child. */
export const bigScenario: Scenario = {
  id: ID,
  title: '100 000 people: snapshot, full apply, converged run',
  async run(ctx, scope) {
    const stage = loadStageConfig(STAGE);
    const rssLimitMb = 0.7 * stage.memoryMb;
    const orgId = orgIdOf(1100);
    const target = { instanceId: DEFAULT_ID, orgId };
    const invitedAt = new Date(Date.now() - 86_400_000).toISOString();
    const invites = Array.from({ length: PENDING }, (_, i) => ({ email: emailOf(i), role: 'view' as const, inviteDate: invitedAt }));
    const members = Array.from({ length: MEMBERS }, (_, i) => ({ email: emailOf(PENDING + i), role: 'view' as const }));
    const emuStarted = startRemoteEmulator(scope, { seed: { instances: [{ id: DEFAULT_ID, orgs: [{ id: orgId, invites, members }] }] } });

    const ddb = await ctx.dynamoClient(scope);
    const meter = DynamoMeter.attach(ddb);
    const tableName = await ctx.table(ddb, 'big', scope);
    const setup = new DynamoStateStore({ tableName, client: ddb });
    const roster = people(PEOPLE);
    const occurredAt = new Date(Date.now() - 3_600_000).toISOString();
    // the fresh table's first read marks its person index done (nothing to backfill), as in a table in use:
    // the measured runs then do not backfill the 100 000 people the snapshot already indexed
    await setup.listPeople();

    // the one snapshot of the invocation: every person through the store's own snapshot path
    process.stderr.write(`bench: 11: replaceSource of ${PEOPLE} people\n`);
    setup.resetStats();
    meter.reset();
    const snapStart = performance.now();
    const snapResult = await setup.replaceSource('default', roster, occurredAt);
    const snapMs = performance.now() - snapStart;
    const snapCalls = setup.stats();
    const snapMeter = meter.summary();
    if (snapResult.upserted !== PEOPLE) throw new Error(`replaceSource upserted ${snapResult.upserted} of ${PEOPLE} rows: ${JSON.stringify(snapResult)}`);

    // the ledger of every pending invite, as the runs that sent them wrote it
    const emu = await emuStarted;
    const listed = await emu.invites(DEFAULT_ID, orgId);
    const ledger = sentLedger(listed);
    await setup.putLedgerEntries(target, ledger);

    // the run may take what the stage's reconcile function may (its timeout)
    const runBudgetMs = stage.timeoutSeconds * 1000;
    const input: ChildInput = { endpoint: (await ctx.dynamo()).endpoint, tableName, emulatorUrl: emu.url, instanceId: DEFAULT_ID, orgId, runBudgetMs, memoryMb: stage.memoryMb };
    const childRun = async (mode: 'full' | 'converged'): Promise<ChildOutput> =>
      lastJsonLine<ChildOutput>(await runNode(CHILD, [JSON.stringify(input), mode], { execArgv: execArgvTsx(), timeoutMs: 2 * runBudgetMs + 60_000 }), `big child ${mode}`);
    const child = await childRun('full');
    // a converged run in a fresh process of its own: its peak RSS, and a cold process's reads
    const cold = await childRun('converged');
    const full = child.full!;
    const { converged } = child;
    for (const [name, r] of [['full', full], ['converged', converged], ['cold converged', cold.converged]] as const) {
      if (!r.complete) throw new Error(`the ${name} run did not complete: ${r.error ?? 'no error given'}; warnings: ${r.warnings.slice(0, 3).join(' | ')}`);
    }

    // what every POST answer carries: the whole pending collection (measured here, out of the children)
    const answer = await fetch(`${emu.url}/instances/${DEFAULT_ID}/orgs/${orgId}/invites`, { headers: { authorization: `Bearer ${DEFAULT_TOKEN}` } });
    const answerBytes = (await answer.arrayBuffer()).byteLength;

    // the people items' size, from what the full run read (a fresh process: it reads every one)
    const peopleBytes = people0(full).bytesRead;
    const peopleUnits = Math.ceil(peopleBytes / RCU_BYTES);
    const convergedPeopleRcu = people0(converged).readUnits;
    const convergedItems = sumTallies(converged.meter.byPrefix, (t) => t.itemsWritten);
    const snapPerSecond = PEOPLE / (snapMs / 1000);
    const invitedOk = full.done?.invite === MISSING && full.losant.duplicateInvites === 0;
    const convergedRequestsOk = converged.losant.getOrg === 1 && converged.losant.getInvites === 1 && converged.losant.getMembers === 1 && converged.losant.other === 0 && converged.losant.posts === 0;

    const rows: Row[] = [
      {
        id: '11a',
        metric: `replaceSource, ${PEOPLE.toLocaleString('en-US')}-row snapshot into an empty source`,
        value: round(snapPerSecond, 0),
        unit: 'rows/s',
        status: 'info',
        note: `${round(snapMs / 1000, 1)} s; ${snapCalls.writes} write + ${snapCalls.reads} read calls; ${round(snapCalls.computedWriteUnits, 0)} WU as DynamoDB bills them (DynamoDB Local reported ${round(snapCalls.writeUnits, 0)})`,
      },
      {
        id: '11b',
        metric: "most write units one partition key took in one second of that snapshot (the store's per-key counts)",
        value: round(snapCalls.maxWriteUnitsPerKeySecond, 0),
        unit: 'WU',
        target: '≤ 1 000',
        status: snapCalls.maxWriteUnitsKey ? within(snapCalls.maxWriteUnitsPerKeySecond, 1000) : 'error',
        note: `key ${snapCalls.maxWriteUnitsKey ?? '(none)'}; ${snapMeter.keysWritten} partition keys written (${Object.entries(snapMeter.byPrefix)
          .map(([k, t]) => `${k}: ${t.itemsWritten} items in ${t.writes} calls`)
          .join(', ')}, by the bench's meter on the client)`,
      },
      {
        id: '11c',
        metric: `peak RSS, full read-plan-apply run (child; ${PEOPLE.toLocaleString('en-US')} people, ${PENDING.toLocaleString('en-US')} pending, ${MEMBERS.toLocaleString('en-US')} members, ${MISSING} invites)`,
        value: round(full.maxRssMb, 0),
        unit: 'MB',
        baseline: { label: 'the idle child', value: round(child.idleRssMb, 0), unit: 'MB' },
        target: `≤ 70 % of ${stage.memoryMb} MB = ${round(rssLimitMb, 0)} MB`,
        status: within(full.maxRssMb, rssLimitMb),
        note: `${full.losant.posts} POSTs (${full.done?.invite ?? 0} invited, ${full.failed} failed, ${full.losant.duplicateInvites} duplicates); ${MISSING} missing of ${PEOPLE} to keep the time bounded: each POST answer lists every pending invite (GET invites after the runs: ${round(answerBytes / 1e6, 1)} MB); ${full.losant.getInvites} GET invites (1 list + lookups by email); log: ${Object.entries(full.messages).slice(0, 6).map(([m, n]) => `${m} ×${n}`).join(', ') || 'nothing at info or above'}`,
      },
      {
        id: '11d',
        metric: 'full run time',
        value: round(full.ms / 1000, 1),
        unit: 's',
        target: `≤ the stage's timeoutSeconds ${stage.timeoutSeconds} s`,
        status: within(full.ms, runBudgetMs),
        note: invitedOk ? `${round(full.cpuMs / 1000, 1)} s CPU` : `MISMATCH: invited ${full.done?.invite ?? 0} of ${MISSING}, ${full.losant.duplicateInvites} duplicates`,
      },
      {
        id: '11e',
        metric: 'peak RSS, converged run alone (a fresh child)',
        value: round(cold.converged.maxRssMb, 0),
        unit: 'MB',
        baseline: { label: 'the idle child', value: round(cold.idleRssMb, 0), unit: 'MB' },
        target: `≤ 70 % of ${stage.memoryMb} MB = ${round(rssLimitMb, 0)} MB`,
        status: within(cold.converged.maxRssMb, rssLimitMb),
        note: `${round(cold.converged.ms / 1000, 1)} s, ${round(cold.converged.cpuMs / 1000, 1)} s CPU; people read: ${people0(cold.converged).itemsRead} items, ${round(people0(cold.converged).readUnits, 0)} RCU; planned ${actions(cold.converged.planned)}`,
      },
      {
        id: '11f',
        metric: 'converged run right after (same child): Losant requests',
        value: converged.losant.getOrg + converged.losant.getInvites + converged.losant.getMembers + converged.losant.other + converged.losant.posts,
        unit: '',
        target: '1 GET org + 1 GET invites + 1 GET members, 0 POST',
        status: convergedRequestsOk && actions(converged.planned) === 0 ? 'pass' : 'miss',
        note: `${converged.losant.getOrg}+${converged.losant.getInvites}+${converged.losant.getMembers}, ${converged.losant.posts} POST, ${converged.losant.other} other; planned ${actions(converged.planned)}; ${round(converged.ms / 1000, 1)} s; process peak RSS ${round(converged.maxRssMb, 0)} MB`,
      },
      {
        id: '11g',
        metric: 'converged run (warm, after the full run): DynamoDB items written (distinct pk + sk)',
        value: converged.meter.itemsWritten,
        unit: 'items',
        target: '≤ 3',
        status: within(converged.meter.itemsWritten, 3),
        note: `${convergedItems} item writes in ${converged.store.writes} write calls, ${round(converged.store.writeUnits, 1)} WCU; item writes by key (LEASE: take, renewals, release): ${Object.entries(converged.meter.byPrefix)
          .filter(([, t]) => t.itemsWritten > 0)
          .map(([k, t]) => `${k} ${t.itemsWritten}`)
          .join(', ')}`,
      },
      {
        id: '11h',
        metric: 'converged run (warm): people read capacity',
        value: round(convergedPeopleRcu, 0),
        unit: 'RCU',
        baseline: { label: `people items ${round(peopleBytes / 1e6, 1)} MB ÷ 4 KB`, value: peopleUnits, unit: 'RCU' },
        ratio: peopleUnits ? convergedPeopleRcu / peopleUnits : undefined,
        target: '≤ 0.5× bytes/4 KB',
        status: peopleUnits ? within(convergedPeopleRcu, 0.5 * peopleUnits) : 'error',
        note: `${people0(converged).itemsRead} PEOPLE items (people and shard digests) in ${people0(converged).reads} reads; the full run read ${people0(full).itemsRead} for ${round(people0(full).readUnits, 0)} RCU; whole converged run ${round(converged.store.readUnits, 0)} RCU in ${converged.store.reads} reads`,
      },
      {
        id: '11i',
        metric: 'full run: most write units one partition key took in one second (the store\'s per-key counts)',
        value: round(full.store.maxWriteUnitsPerKeySecond, 0),
        unit: 'WU',
        status: 'info',
        note: `key ${full.store.maxWriteUnitsKey ?? '(none)'}: the full run writes ${full.meter.byPrefix.LEDGER?.itemsWritten ?? 0} ledger items (the members it records and its invites) into the target's one ledger partition; DynamoDB serves 1 000 a key`,
      },
      {
        id: '11j',
        metric: 'converged run (warm): read capacity beyond the people',
        value: round(converged.store.readUnits - convergedPeopleRcu, 0),
        unit: 'RCU',
        status: 'info',
        note: Object.entries(converged.meter.byPrefix)
          .filter(([k, t]) => k !== 'PEOPLE' && t.reads > 0)
          .map(([k, t]) => `${k} ${round(t.readUnits, 0)} RCU (${t.itemsRead} items)`)
          .join(', '),
      },
    ];
    return {
      rows,
      details: {
        shape: { people: PEOPLE, pending: PENDING, members: MEMBERS, missing: MISSING },
        stage: { name: STAGE, memoryMb: stage.memoryMb, timeoutSeconds: stage.timeoutSeconds },
        snapshot: { rows: PEOPLE, ms: round(snapMs, 0), result: snapResult, calls: snapCalls, meter: snapMeter },
        peopleBytes,
        answerBytes,
        child,
        cold,
      },
    };
  },
};
