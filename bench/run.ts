// npm run bench --> run.ts --> scenarios (planner, apply, converged run, cold start, webhook, SCIM, cost of a month, fetch vs undici, long apply, 100 000 people) --> table + bench/results.json
//
// Each figure is measured beside its baseline in the same invocation. Missing a target is reported,
// never a crash: the exit code is non-zero only when the bench itself failed.
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { BenchContext, type Scenario } from './lib/context.ts';
import { closeEverything, Scope, withScope } from './lib/processes.ts';
import { renderMarkdown, renderTable, type ScenarioResult } from './lib/report.ts';
import { round } from './lib/stats.ts';
import { plannerScenario } from './scenarios/planner.ts';
import { applyLatencyScenario } from './scenarios/apply-latency.ts';
import { applyRateScenario } from './scenarios/apply-rate.ts';
import { convergedScenario } from './scenarios/converged.ts';
import { coldStartScenario } from './scenarios/cold-start.ts';
import { webhookScenario } from './scenarios/webhook.ts';
import { scimScenario } from './scenarios/scim.ts';
import { costScenario } from './scenarios/cost.ts';
import { fetchVsUndiciScenario } from './scenarios/fetch-vs-undici.ts';
import { longApplyScenario } from './scenarios/long-apply.ts';
import { bigScenario } from './scenarios/big.ts';

const SCENARIOS: Scenario[] = [plannerScenario, applyLatencyScenario, applyRateScenario, convergedScenario, coldStartScenario, webhookScenario, scimScenario, costScenario, fetchVsUndiciScenario, longApplyScenario, bigScenario];

const RESULTS_FILE = new URL('./results.json', import.meta.url);

function selected(): Scenario[] {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  return only.length ? SCENARIOS.filter((s) => only.includes(s.id)) : SCENARIOS;
}

async function runScenario(ctx: BenchContext, scenario: Scenario): Promise<ScenarioResult> {
  const start = performance.now();
  process.stderr.write(`bench: ${scenario.id}. ${scenario.title} …\n`);
  try {
    const out = await withScope(`scenario ${scenario.id}`, (scope) => scenario.run(ctx, scope));
    return { id: scenario.id, title: scenario.title, ...out, seconds: round((performance.now() - start) / 1000, 1) };
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    process.stderr.write(`bench: ${scenario.id} failed: ${message}\n`);
    return { id: scenario.id, title: scenario.title, rows: [], details: {}, seconds: round((performance.now() - start) / 1000, 1), error: message };
  }
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const ctx = new BenchContext();
  // lives as long as the run: a signal or crash stops DynamoDB Local through it too
  const root = new Scope('bench');
  root.defer('dynamodb local', () => ctx.close());
  // warnings the code under test raises (e.g. MaxListenersExceeded) belong in the report
  const warnings: string[] = [];
  process.on('warning', (w) => {
    if (w.name !== 'NodeVersionSupportWarning') warnings.push(`${w.name}: ${w.message}`.slice(0, 300));
  });
  const started = new Date();
  const load = loadavg();
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of selected()) results.push(await runScenario(ctx, scenario));
  } finally {
    await root.close();
  }
  const environment = {
    startedAt: started.toISOString(),
    seconds: round((Date.now() - started.getTime()) / 1000, 1),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: round(totalmem() / 2 ** 30, 1),
    loadAverageAtStart: load.map((l) => round(l, 2)),
    loadAverageAtEnd: loadavg().map((l) => round(l, 2)),
    notes: ctx.notes,
    processWarnings: warnings,
  };
  await writeFile(RESULTS_FILE, `${JSON.stringify({ environment, results }, null, 2)}\n`);
  process.stdout.write(`\n${renderTable(results)}\n\n`);
  if (warnings.length) process.stdout.write(`process warnings during the bench:\n${warnings.map((w) => `  ${w}`).join('\n')}\n`);
  process.stdout.write(`load average ${environment.loadAverageAtStart.join(' ')} → ${environment.loadAverageAtEnd.join(' ')} on ${environment.cpus} cores; ${environment.seconds} s in all\n`);
  process.stdout.write(`wrote ${RESULTS_FILE.pathname}${process.argv.includes('--markdown') ? '' : ' (--markdown prints the table for the README)'}\n`);
  if (process.argv.includes('--markdown')) process.stdout.write(`\n${renderMarkdown(results)}\n`);
  const crashed = results.filter((r) => r.error);
  if (crashed.length) {
    process.stderr.write(`bench: ${crashed.length} scenario(s) could not run: ${crashed.map((r) => r.id).join(', ')}\n`);
    process.exitCode = 1;
  }
}

let stopping = false;
async function stop(code: number, why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`bench: ${why}; stopping children and servers\n`);
  await closeEverything().catch(() => undefined);
  process.exit(code);
}
process.once('SIGINT', () => void stop(130, 'interrupted'));
process.once('SIGTERM', () => void stop(143, 'terminated'));
process.on('uncaughtException', (err) => void stop(1, `uncaught ${err.stack ?? err.message}`));
process.on('unhandledRejection', (err) => void stop(1, `unhandled rejection ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));

main().catch(async (err: unknown) => {
  await stop(1, `crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
});
