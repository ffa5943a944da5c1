// bench/scenarios/planner.ts (parent) --> planner-child (fresh process) --> planTarget vs a plain Set difference
//
// Modes (argv[2]): `time` prints the interleaved samples; `rss-plan` generates the inputs and plans once;
// `rss-generate` only generates them. Each prints one JSON line with process.resourceUsage().maxRSS.
import { planTarget } from '../../functions/sync/planner.ts';
import type { Member, PendingInvite, Plan, StoredPerson } from '../../functions/sync/types.ts';
import { BENCH_NOW, BENCH_POLICY, BENCH_RULES, PLANNER_SHAPE, plannerInputs, type PlannerInputs } from '../lib/roster.ts';

/**
 * The baseline: lower-case every email and take a plain Set difference (people − pending − members).
 * @example baselineDiff(people, pending, members).length
 */
function baselineDiff(people: readonly StoredPerson[], pending: readonly PendingInvite[], members: readonly Member[]): string[] {
  const have = new Set<string>();
  for (const p of pending) have.add(p.email.toLowerCase());
  for (const m of members) have.add(m.email.toLowerCase());
  const missing: string[] = [];
  for (const p of people) {
    const email = p.email.toLowerCase();
    if (!have.has(email)) missing.push(email);
  }
  return missing;
}

function plan(inputs: PlannerInputs): Plan {
  return planTarget({ rules: BENCH_RULES, ...inputs, policy: BENCH_POLICY, now: BENCH_NOW });
}

const gc = (globalThis as { gc?: () => void }).gc;
const maxRssMb = (): number => process.resourceUsage().maxRSS / 1024;

function time<T>(fn: () => T): { ms: number; value: T } {
  gc?.();
  const start = performance.now();
  const value = fn();
  return { ms: performance.now() - start, value };
}

function timing(reps: number, warmups: number): Record<string, unknown> {
  const inputs = plannerInputs(PLANNER_SHAPE);
  const planner: number[] = [];
  const baseline: number[] = [];
  let last: Plan | undefined;
  let missing = 0;
  for (let i = 0; i < warmups + reps; i++) {
    // interleaved, alternating which goes first, so drift hurts both alike
    const runs = i % 2 === 0 ? (['planner', 'baseline'] as const) : (['baseline', 'planner'] as const);
    for (const which of runs) {
      if (which === 'planner') {
        const r = time(() => plan(inputs));
        last = r.value;
        if (i >= warmups) planner.push(r.ms);
      } else {
        const r = time(() => baselineDiff(inputs.people, inputs.pending, inputs.members));
        missing = r.value.length;
        if (i >= warmups) baseline.push(r.ms);
      }
    }
  }
  const kinds: Record<string, number> = {};
  for (const a of last!.actions) kinds[a.kind] = (kinds[a.kind] ?? 0) + 1;
  return { planner, baseline, actions: kinds, skipped: last!.skipped, desired: last!.desired, baselineMissing: missing, gcBetweenRuns: gc !== undefined };
}

function main(): void {
  const mode = process.argv[2];
  if (mode === 'time') {
    const reps = Number(process.argv[3] ?? 7);
    const warmups = Number(process.argv[4] ?? 2);
    process.stdout.write(`${JSON.stringify(timing(reps, warmups))}\n`);
  } else if (mode === 'rss-plan' || mode === 'rss-generate') {
    const inputs = plannerInputs(PLANNER_SHAPE);
    const start = performance.now();
    const result = mode === 'rss-plan' ? plan(inputs) : undefined;
    const ms = performance.now() - start;
    process.stdout.write(`${JSON.stringify({ maxRssMb: maxRssMb(), actions: result?.actions.length ?? 0, ms })}\n`);
  } else {
    process.stderr.write('usage: planner-child.ts time [reps] [warmups] | rss-plan | rss-generate\n');
    process.exitCode = 2;
  }
}

main();
