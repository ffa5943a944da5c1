// bench/run.ts --> cold start --> cdk synth bundle vs a bundle of its bare dependencies: bytes, import time, no I/O
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Scenario } from '../lib/context.ts';
import { analyseHandler, buildBare, HTTP_ENTRY, LAMBDA_BUILD_OPTIONS, synthBundle } from '../lib/bundle.ts';
import { lastJsonLine, ROOT, runNode } from '../lib/processes.ts';
import { within, type Row } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

const KB = 1024;
const MB = 1024 * 1024;
const IMPORT_REPS = 7;
const PROBE = new URL('../lib/import-probe.mjs', import.meta.url).pathname;

interface ProbeOut {
  importMs: number;
  sinceStartMs: number;
  handler: string;
  attempts: string[];
  error?: string;
  maxRssMb: number;
}

/** One fresh node that imports `file` (no environment at all, no flags unless given). */
async function probe(file: string, mode: 'time' | 'guard', execArgv: string[] = []): Promise<ProbeOut & { wallMs: number }> {
  const result = await runNode(PROBE, [file, mode], { execArgv, env: {}, timeoutMs: 20_000 });
  if (result.signal === 'SIGKILL') throw new Error(`importing ${file} did not end within 20 s (module-scope work or open handles)`);
  return { ...lastJsonLine<ProbeOut>(result, `import probe (${mode})`), wallMs: result.ms };
}

/** Scenario 5: what our code adds to the Lambda bundle, and to the time a cold start spends importing it. */
export const coldStartScenario: Scenario = {
  id: '5',
  title: 'Cold start: Lambda bundle size and import time',
  async run(ctx, scope) {
    // inside the project, so `@aws-sdk/*` (external, as the Lambda runtime provides it) resolves from node_modules
    await mkdir(join(ROOT, 'bench/.out'), { recursive: true });
    const dir = await mkdtemp(join(ROOT, 'bench/.out/cold-start-'));
    scope.defer('temp dir', () => rm(dir, { recursive: true, force: true }));
    const [synth, analysis] = await Promise.all([synthBundle(join(dir, 'cdk.out')), analyseHandler()]);
    const bareFile = join(dir, 'bare', 'index.mjs');
    const bareBytes = await buildBare(analysis.bareEntry, bareFile);
    const added = synth.bytes - bareBytes;
    // the HTTP function (webhook.handler.ts): built with the construct's esbuild options, beside its own bare twin
    const httpAnalysis = await analyseHandler(HTTP_ENTRY);
    const httpFile = join(dir, 'http', 'index.mjs');
    await build({ ...LAMBDA_BUILD_OPTIONS, entryPoints: [HTTP_ENTRY], outfile: httpFile });
    const httpBytes = (await stat(httpFile)).size;
    const httpBare = await buildBare(httpAnalysis.bareEntry, join(dir, 'http-bare', 'index.mjs'));

    // warm the page cache for both, then interleave, alternating which goes first
    await probe(synth.file, 'time');
    await probe(bareFile, 'time');
    const real: (ProbeOut & { wallMs: number })[] = [];
    const bare: (ProbeOut & { wallMs: number })[] = [];
    for (let i = 0; i < IMPORT_REPS; i++) {
      if (i % 2 === 0) {
        real.push(await probe(synth.file, 'time'));
        bare.push(await probe(bareFile, 'time'));
      } else {
        bare.push(await probe(bareFile, 'time'));
        real.push(await probe(synth.file, 'time'));
      }
    }
    // the Lambda sets NODE_OPTIONS=--enable-source-maps: what that costs at import
    const withMaps: number[] = [];
    for (let i = 0; i < 3; i++) withMaps.push((await probe(synth.file, 'time', ['--enable-source-maps'])).importMs);
    const guard = await probe(synth.file, 'guard');

    const failed = [...real, ...bare].find((p) => p.error);
    if (failed) throw new Error(`a bundle failed to import: ${failed.error}`);
    const realMs = median(real.map((p) => p.importMs));
    const bareMs = median(bare.map((p) => p.importMs));
    const guardOk = guard.attempts.length === 0 && !guard.error && guard.handler === 'function';
    ctx.notes.push('5: KB = 1024 bytes, MB = 1024 KB; sizes are of index.mjs only (the .map beside it is not counted)');
    const rows: Row[] = [
      {
        id: '5a',
        metric: 'bytes our code adds to the bundle (synth − bare dependencies)',
        value: added / KB,
        unit: 'KB',
        baseline: { label: 'bare-dependency bundle', value: bareBytes / KB, unit: 'KB' },
        target: '≤ 150 KB',
        status: within(added, 150 * KB),
        note: `esbuild metafile: ${(analysis.bytesInOutput.ours / KB).toFixed(1)} KB from ${analysis.ourFiles.length} of our files`,
      },
      {
        id: '5b',
        metric: 'synthesized bundle index.mjs (minified)',
        value: synth.bytes / MB,
        unit: 'MB',
        target: '≤ 1.2 MB',
        status: within(synth.bytes, 1.2 * MB),
        note: `source map ${(synth.mapBytes / MB).toFixed(2)} MB apart; bare dependencies alone ${(bareBytes / MB).toFixed(2)} MB; biggest: ${analysis.packages
          .slice(0, 4)
          .map((p) => `${p.name} ${(p.bytes / KB).toFixed(0)} KB`)
          .join(', ')}`,
      },
      {
        id: '5f',
        metric: 'HTTP function (webhook.handler.ts): bytes our code adds (its bundle − its bare dependencies)',
        value: (httpBytes - httpBare) / KB,
        unit: 'KB',
        baseline: { label: 'its bare-dependency bundle', value: httpBare / KB, unit: 'KB' },
        target: '≤ 150 KB',
        status: within(httpBytes - httpBare, 150 * KB),
        note: `esbuild metafile: ${(httpAnalysis.bytesInOutput.ours / KB).toFixed(1)} KB from ${httpAnalysis.ourFiles.length} of our files`,
      },
      {
        id: '5g',
        metric: 'HTTP function bundle index.mjs (minified, esbuild with the construct\'s options)',
        value: httpBytes / MB,
        unit: 'MB',
        target: '≤ 1.2 MB',
        status: within(httpBytes, 1.2 * MB),
      },
      {
        id: '5c',
        metric: `import time, fresh node (median of ${IMPORT_REPS}, interleaved)`,
        value: realMs,
        unit: 'ms',
        baseline: { label: 'bare-dependency bundle', value: bareMs, unit: 'ms' },
        ratio: realMs / bareMs,
        target: '≤ 1.5× bare',
        status: within(realMs / bareMs, 1.5),
      },
      {
        id: '5d',
        metric: 'import with --enable-source-maps (as the Lambda runs it)',
        value: median(withMaps),
        unit: 'ms',
        baseline: { label: 'same bundle, no flag', value: realMs, unit: 'ms' },
        ratio: median(withMaps) / realMs,
        status: 'info',
      },
      {
        id: '5e',
        metric: 'import with no env and no network returns, no I/O at module scope',
        value: guard.attempts.length,
        unit: 'net calls',
        target: '0, handler exported',
        status: guardOk ? 'pass' : 'miss',
        note: guardOk ? `process ended by itself after ${guard.wallMs.toFixed(0)} ms` : `handler ${guard.handler}; ${guard.attempts.join(', ')} ${guard.error ?? ''}`.trim(),
      },
    ];
    return {
      rows,
      details: { synth, bareBytes, http: { bytes: httpBytes, bareBytes: httpBare, ours: httpAnalysis.bytesInOutput.ours, packages: httpAnalysis.packages }, analysis: { imports: analysis.imports, bytesInOutput: analysis.bytesInOutput, packages: analysis.packages, bareEntry: analysis.bareEntry }, real, bare, withSourceMapsMs: withMaps, guard },
    };
  },
};
