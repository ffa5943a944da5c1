// bench/run.ts --> fetch vs undici --> fetch-child (Node 20 and Node 22) against one emulator at 25 ms:
// the invite POST-then-GET pattern on undici's Agent vs Node's built-in fetch, and the bytes undici adds to each bundle.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DEFAULT_ID, DEFAULT_TOKEN } from '../../emulator/index.ts';
import { analyseHandler, HANDLER_ENTRY, HTTP_ENTRY } from '../lib/bundle.ts';
import type { Scenario } from '../lib/context.ts';
import { execArgvTsx, lastJsonLine, ROOT, runNode } from '../lib/processes.ts';
import { startRemoteEmulator } from '../lib/remote-emulator.ts';
import { within, type Row } from '../lib/report.ts';
import { orgIdOf } from '../lib/roster.ts';
import { median } from '../lib/stats.ts';

const LATENCY_MS = 25;
const CONCURRENCY = 16;
/** emails per run: a POST and a GET each, so 1 000 requests per run */
const PER_RUN = 500;
/** measured pairs per node (after one warm-up of each) */
const PAIRS = 4;
const KB = 1024;
const CHILD = new URL('./fetch-child.ts', import.meta.url).pathname;

interface ChildOut {
  node: string;
  undiciMs: number[];
  fetchMs: number[];
  order: string[];
}

/** Node 22's binary from the npm package node@22 (as .ci/run uses it), or undefined when npx cannot provide it. */
async function node22(): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('npx', ['-y', 'node@22', '-p', 'process.execPath'], { cwd: ROOT, timeout: 120_000 });
    const path = stdout.trim().split('\n').pop();
    return path?.startsWith('/') ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Scenario 9: issue 18 item 5, keep undici unless fetch is within 10 % and saves ≥ 300 KB. */
export const fetchVsUndiciScenario: Scenario = {
  id: '9',
  title: "Node's fetch vs undici's Agent: time and bundle bytes",
  async run(ctx, scope) {
    const node22Path = await node22();
    const nodes: (string | undefined)[] = [undefined, ...(node22Path ? [node22Path] : [])];
    const orgsPer = 2 + 2 * PAIRS;
    const orgs = Array.from({ length: orgsPer * nodes.length }, (_, i) => orgIdOf(300 + i));
    const emu = await startRemoteEmulator(scope, { latencyMs: LATENCY_MS, seed: { instances: [{ id: DEFAULT_ID, orgs: orgs.map((id) => ({ id })) }] } });
    const [reconcile, http] = await Promise.all([analyseHandler(HANDLER_ENTRY), analyseHandler(HTTP_ENTRY)]);
    const undiciBytes = (a: Awaited<ReturnType<typeof analyseHandler>>) => a.packages.find((p) => p.name === 'undici')?.bytes ?? 0;
    // the bundles that carry undici (the reconcile one: the HTTP function builds no Losant client); each would save at least this
    const carrying = [reconcile, http].map(undiciBytes).filter((b) => b > 0);
    const saved = carrying.length ? Math.min(...carrying) : 0;

    const outs: ChildOut[] = [];
    for (const [i, node] of nodes.entries()) {
      const mine = orgs.slice(i * orgsPer, (i + 1) * orgsPer);
      const result = await runNode(CHILD, [emu.url, DEFAULT_ID, DEFAULT_TOKEN, JSON.stringify(mine), String(PER_RUN), String(CONCURRENCY)], {
        execArgv: execArgvTsx(),
        timeoutMs: 300_000,
        ...(node ? { node } : {}),
      });
      outs.push(lastJsonLine<ChildOut>(result, `fetch child (${node ?? process.version})`));
    }
    const stats = await emu.stats();
    if (stats.duplicateInvites) throw new Error(`the emulator saw ${stats.duplicateInvites} duplicate invites`);
    if (!node22Path) ctx.notes.push('9: Node 22 not run (npx -y node@22 could not provide it)');
    ctx.notes.push(`9: ${PER_RUN} emails per run (POST the invite, then GET filtered by the email: ${2 * PER_RUN} requests), ${LATENCY_MS} ms, ${CONCURRENCY} at a time, fresh empty org per run, ${PAIRS} pairs alternating order after a warm-up each`);
    const rows: Row[] = [];
    const letters = 'abcdef';
    let worst = 0;
    outs.forEach((o, i) => {
      const u = median(o.undiciMs);
      const f = median(o.fetchMs);
      worst = Math.max(worst, f / u);
      rows.push({
        id: `9${letters[i]}`,
        metric: `fetch, ${2 * PER_RUN} invite POST/GET, ${LATENCY_MS} ms, ${CONCURRENCY} at a time, Node ${o.node} (median of ${PAIRS})`,
        value: f,
        unit: 'ms',
        baseline: { label: `undici Agent, same run`, value: u, unit: 'ms' },
        ratio: f / u,
        target: '≤ 1.1× undici (to switch)',
        status: within(f / u, 1.1),
      });
    });
    const idealMs = (2 * PER_RUN * LATENCY_MS) / CONCURRENCY;
    rows.push({
      id: `9${letters[outs.length]}`,
      metric: 'bundle bytes fetch would save (undici in the metafile, smallest of the Lambda bundles that carry it)',
      value: saved / KB,
      unit: 'KB',
      target: '≥ 300 KB (to switch)',
      status: within(saved, 300 * KB, true),
      note: `reconcile ${(undiciBytes(reconcile) / KB).toFixed(0)} KB, HTTP ${(undiciBytes(http) / KB).toFixed(0)} KB of undici`,
    });
    const switchTo = worst <= 1.1 && saved >= 300 * KB;
    rows.push({
      id: `9${letters[outs.length + 1]}`,
      metric: 'decision (issue 18: keep undici unless fetch is within 10 % and saves ≥ 300 KB)',
      value: worst,
      unit: '× worst ratio',
      status: 'info',
      note: switchTo ? 'fetch qualifies on both counts' : 'keep undici',
    });
    return { rows, details: { idealMs, node22: node22Path ?? null, children: outs, undiciBytes: { reconcile: undiciBytes(reconcile), http: undiciBytes(http) }, switchToFetch: switchTo } };
  },
};
