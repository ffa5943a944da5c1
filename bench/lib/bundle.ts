// bench cold-start scenario --> bundle: the synthesized Lambda bundle, a bare-dependency twin, byte breakdown
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import ts from 'typescript';
import { ROOT, runNode } from './processes.ts';

/** The reconcile function's entry, the CDK construct's default (lib/constructs/sync-function.ts). */
export const HANDLER_ENTRY = join(ROOT, 'functions/handlers/reconcile.handler.ts');

/** The HTTP function's entry (lib/invite-sync-stack.ts, SyncFunction 'Http'). */
export const HTTP_ENTRY = join(ROOT, 'functions/handlers/webhook.handler.ts');

/** The esbuild options NodejsFunction uses for that function: minified ESM for node22, source map apart. */
export const LAMBDA_BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'silent',
  absWorkingDir: ROOT,
  // as lib/constructs/sync-function.ts: the nodejs22.x runtime provides the AWS SDK v3
  external: ['@aws-sdk/*'],
};

export class BundleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BundleError';
  }
}

export interface SynthBundle {
  /** absolute path of asset.<hash>/index.mjs */
  file: string;
  bytes: number;
  mapBytes: number;
  synthMs: number;
}

/**
 * Runs `cdk synth -c stage=dev -o <outDir>` and finds the bundled function (the biggest asset index.mjs).
 * @example const { file, bytes } = await synthBundle('/tmp/bench-synth');
 */
export async function synthBundle(outDir: string): Promise<SynthBundle> {
  const cdk = join(ROOT, 'node_modules/aws-cdk/bin/cdk');
  const result = await runNode(cdk, ['synth', '--no-notices', '-q', '-c', 'stage=dev', '-o', outDir], {
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    timeoutMs: 240_000,
  });
  if (result.code !== 0) throw new BundleError(`cdk synth failed (exit ${result.code ?? result.signal}): ${result.stderr.trim().slice(-800)}`);
  const assets = (await readdir(outDir)).filter((d) => d.startsWith('asset.'));
  let best: { file: string; bytes: number } | undefined;
  for (const dir of assets) {
    const file = join(outDir, dir, 'index.mjs');
    const size = await stat(file).then((s) => s.size, () => -1);
    if (size > (best?.bytes ?? -1)) best = { file, bytes: size };
  }
  if (!best) throw new BundleError(`cdk synth wrote no asset.*/index.mjs under ${outDir}`);
  const mapBytes = await stat(`${best.file}.map`).then((s) => s.size, () => 0);
  return { ...best, mapBytes, synthMs: result.ms };
}

const isThirdParty = (spec: string): boolean => !spec.startsWith('.') && !spec.startsWith('/') && !spec.startsWith('node:') && !isBuiltin(spec);
const BUILTINS = new Set(['fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'tls', 'dns', 'url', 'util', 'zlib', 'stream', 'events', 'buffer', 'child_process', 'module', 'timers', 'assert', 'querystring', 'worker_threads', 'perf_hooks', 'async_hooks', 'process']);
function isBuiltin(spec: string): boolean {
  return BUILTINS.has(spec.split('/')[0]!);
}

/** What one of our files takes from third-party packages (type-only imports left out). */
interface PackageImport {
  spec: string;
  named: Set<string>;
  namespace: boolean;
  sideEffect: boolean;
  dynamic: boolean;
}

function collectFrom(file: string, text: string, into: Map<string, PackageImport>): void {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const entry = (spec: string): PackageImport => {
    let e = into.get(spec);
    if (!e) into.set(spec, (e = { spec, named: new Set(), namespace: false, sideEffect: false, dynamic: false }));
    return e;
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && isThirdParty(node.moduleSpecifier.text)) {
      const clause = node.importClause;
      const e = entry(node.moduleSpecifier.text);
      if (!clause) e.sideEffect = true;
      else if (!clause.isTypeOnly) {
        if (clause.name) e.named.add('default');
        const bindings = clause.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) e.namespace = true;
        if (bindings && ts.isNamedImports(bindings)) {
          for (const el of bindings.elements) if (!el.isTypeOnly) e.named.add((el.propertyName ?? el.name).text);
        }
      }
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) && isThirdParty(node.moduleSpecifier.text) && !node.isTypeOnly) {
      const e = entry(node.moduleSpecifier.text);
      if (!node.exportClause || ts.isNamespaceExport(node.exportClause)) e.namespace = true;
      else for (const el of node.exportClause.elements) if (!el.isTypeOnly) e.named.add((el.propertyName ?? el.name).text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteral(arg) && isThirdParty(arg.text)) entry(arg.text).dynamic = true;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

export interface HandlerAnalysis {
  /** third-party imports of our bundled files */
  imports: { spec: string; named: string[]; namespace: boolean; sideEffect: boolean; dynamic: boolean }[];
  /** source of the bare-dependency entry */
  bareEntry: string;
  /** minified bytes per origin in an esbuild build of the handler with the Lambda options */
  bytesInOutput: { ours: number; dependencies: number; total: number };
  /** minified bytes per package, biggest first */
  packages: { name: string; bytes: number }[];
  ourFiles: string[];
}

/**
 * Builds the handler once with a metafile, finds which of our files it bundles and what they import
 * from third-party packages, and writes an entry that imports exactly those bindings and nothing of ours.
 */
export async function analyseHandler(entry: string = HANDLER_ENTRY): Promise<HandlerAnalysis> {
  const result = await build({ ...LAMBDA_BUILD_OPTIONS, entryPoints: [entry], outfile: join(ROOT, 'bench/.out/handler.mjs'), metafile: true, write: false });
  const meta: Metafile = result.metafile;
  const ourFiles = Object.keys(meta.inputs).filter((p) => !p.includes('node_modules/'));
  const imports = new Map<string, PackageImport>();
  for (const file of ourFiles) collectFrom(file, await readFile(join(ROOT, file), 'utf8'), imports);
  const out = Object.values(meta.outputs).find((o) => o.entryPoint !== undefined);
  let ours = 0;
  let dependencies = 0;
  const byPackage = new Map<string, number>();
  for (const [path, info] of Object.entries(out?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    if (pkg) {
      dependencies += info.bytesInOutput;
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + info.bytesInOutput);
    } else ours += info.bytesInOutput;
  }
  // type-only imports leave an entry with nothing in it
  const list = [...imports.values()].filter((i) => i.named.size || i.namespace || i.sideEffect || i.dynamic).sort((a, b) => a.spec.localeCompare(b.spec));
  const lines: string[] = [];
  list.forEach((imp, i) => {
    const spec = JSON.stringify(imp.spec);
    if (imp.named.size) lines.push(`export { ${[...imp.named].map((n) => `${n} as m${i}_${n.replace(/\W/g, '_')}`).join(', ')} } from ${spec};`);
    if (imp.namespace) lines.push(`export * as m${i}_ns from ${spec};`);
    if (imp.dynamic) lines.push(`export const m${i}_lazy = () => import(${spec});`);
    if (imp.sideEffect && !imp.named.size && !imp.namespace) lines.push(`import ${spec};`);
  });
  return {
    imports: list.map((i) => ({ spec: i.spec, named: [...i.named].sort(), namespace: i.namespace, sideEffect: i.sideEffect, dynamic: i.dynamic })),
    bareEntry: `${lines.join('\n')}\n`,
    bytesInOutput: { ours, dependencies, total: out ? out.bytes : 0 },
    packages: [...byPackage].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
    ourFiles: ourFiles.map((f) => relative(ROOT, join(ROOT, f))),
  };
}

/**
 * Bundles `entrySource` (resolved from the repository root) with the Lambda options into `outfile`.
 * @returns bytes of the .mjs (the source map is written beside it and not counted)
 */
export async function buildBare(entrySource: string, outfile: string): Promise<number> {
  await build({ ...LAMBDA_BUILD_OPTIONS, stdin: { contents: entrySource, resolveDir: ROOT, loader: 'js', sourcefile: 'bare-dependencies.mjs' }, outfile });
  return (await stat(outfile)).size;
}
