// bench/run.ts --> planner scenario --> planner-child processes (timing, peak RSS)
import { build } from 'esbuild';
import { join } from 'node:path';
import { lastJsonLine, ROOT, runNode } from '../lib/processes.ts';
import { LAMBDA_BUILD_OPTIONS } from '../lib/bundle.ts';
import { within, type Row } from '../lib/report.ts';
import { median } from '../lib/stats.ts';
import type { Scenario } from '../lib/context.ts';
import { PLANNER_SHAPE } from '../lib/roster.ts';

/** Repetitions of each side after the warm-up (median taken). */
const REPS = 7;
const WARMUPS = 2;
const RSS_RUNS = 2;
const CHILD_SOURCE = new URL('./planner-child.ts', import.meta.url).pathname;

/**
 * The child as the Lambda runs our code: one esbuild bundle with the construct's options (minified),
 * run by plain node. Under tsx every closure the planner makes per email also pays esbuild's keepNames
 * wrapper (`__name`): 330 ms a plan there against 232 ms bundled, the same code.
 */
async function bundledChild(): Promise<string> {
  const outfile = join(ROOT, 'bench/.out/planner-child.mjs');
  await build({ ...LAMBDA_BUILD_OPTIONS, sourcemap: false, entryPoints: [CHILD_SOURCE], outfile });
  return outfile;
}

interface TimingOut {
  planner: number[];
  baseline: number[];
  actions: Record<string, number>;
  skipped: Record<string, number>;
  desired: number;
  baselineMissing: number;
  gcBetweenRuns: boolean;
}
interface RssOut {
  maxRssMb: number;
  actions: number;
  ms: number;
}

async function rss(child: string, mode: 'rss-plan' | 'rss-generate'): Promise<RssOut[]> {
  const out: RssOut[] = [];
  for (let i = 0; i < RSS_RUNS; i++) out.push(lastJsonLine<RssOut>(await runNode(child, [mode], { execArgv: [], timeoutMs: 60_000 }), `planner child ${mode}`));
  return out;
}

/** Scenario 1: planTarget on 100 000 people against a lower-case Set difference; peak RSS of one pass. */
export const plannerScenario: Scenario = {
  id: '1',
  title: 'Planner, 100 000 people',
  async run() {
    const child = await bundledChild();
    const timing = lastJsonLine<TimingOut>(
      await runNode(child, ['time', String(REPS), String(WARMUPS)], { execArgv: ['--expose-gc'], timeoutMs: 120_000 }),
      'planner child time',
    );
    const plannerMs = median(timing.planner);
    const baselineMs = median(timing.baseline);
    // the other order too (RSS is not timing-sensitive, but alternate anyway)
    const planRss = await rss(child, 'rss-plan');
    const genRss = await rss(child, 'rss-generate');
    const peak = Math.max(...planRss.map((r) => r.maxRssMb));
    const genPeak = Math.max(...genRss.map((r) => r.maxRssMb));
    const invites = timing.actions.invite ?? 0;
    const rows: Row[] = [
      {
        id: '1a',
        metric: `planTarget, median of ${REPS} (${WARMUPS} warm-up)`,
        value: plannerMs,
        unit: 'ms',
        baseline: { label: 'lower-case Set difference', value: baselineMs, unit: 'ms' },
        ratio: plannerMs / baselineMs,
        target: '≤ 2× baseline',
        status: within(plannerMs / baselineMs, 2),
      },
      {
        id: '1b',
        metric: 'planner invites = baseline missing emails',
        value: invites,
        unit: '',
        baseline: { label: 'baseline', value: timing.baselineMissing, unit: '' },
        target: 'equal',
        status: invites === timing.baselineMissing ? 'pass' : 'miss',
        note: `actions ${JSON.stringify(timing.actions)}`,
      },
      {
        id: '1c',
        metric: 'peak RSS, child: generate + plan',
        value: peak,
        unit: 'MB',
        baseline: { label: 'child that only generates', value: genPeak, unit: 'MB' },
        target: '≤ 256 MB',
        status: within(peak, 256),
      },
      {
        id: '1d',
        metric: 'RSS the planner pass adds',
        value: peak - genPeak,
        unit: 'MB',
        status: 'info',
      },
    ];
    return { rows, details: { shape: PLANNER_SHAPE, timing, rss: { plan: planRss, generate: genRss } } };
  },
};
