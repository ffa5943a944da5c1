// What each deployed function's entry bundles: the construct's esbuild options, its metafile, no synth.
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { HANDLER_ENTRY, HTTP_ENTRY, LAMBDA_BUILD_OPTIONS } from '../../bench/lib/bundle.ts';

/** Our files (not node_modules) and the packages the entry's bundle holds. */
async function bundled(entry: string): Promise<{ ours: string[]; packages: Set<string>; inputs: string[] }> {
  const result = await build({ ...LAMBDA_BUILD_OPTIONS, entryPoints: [entry], outfile: 'bundle.mjs', metafile: true, write: false });
  const inputs = Object.keys(result.metafile.inputs);
  const packages = new Set(inputs.flatMap((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p)?.[1] ?? []));
  return { ours: inputs.filter((p) => !p.includes('node_modules/')), packages, inputs };
}

describe('Lambda bundles', () => {
  it('returns a reconcile bundle without the HTTP routes: no webhook, no SCIM service, store, protocol or token code, no Standard Webhooks', async () => {
    // Act
    const { ours, packages } = await bundled(HANDLER_ENTRY);
    // Assert
    expect(ours).toEqual(expect.arrayContaining(['functions/handlers/queue.handler.ts', 'functions/handlers/s3-drop.handler.ts', 'functions/losant/client.ts', 'functions/drops/s3-drop-reader.ts']));
    expect(ours.filter((f) => /handlers\/(webhook|scim|index)\.|webhook-signature|http-container|composition-root|state\/scim-store|functions\/scim\/(service|filter|patch|resources|projection|discovery|auth)\./.test(f))).toEqual([]);
    expect(packages.has('standardwebhooks')).toBe(false);
    expect(packages.has('undici')).toBe(true);
  });

  it('returns an HTTP bundle with the webhook and SCIM routes and without the Losant client (no undici), the S3 drop reader or run events', async () => {
    // Act
    const { ours, packages } = await bundled(HTTP_ENTRY);
    // Assert
    expect(ours).toEqual(expect.arrayContaining(['functions/handlers/webhook.handler.ts', 'functions/handlers/scim.handler.ts', 'functions/scim/service.ts', 'functions/scim/auth.ts']));
    expect(ours.filter((f) => /functions\/losant\/(client|transport)|s3-drop-reader|eventbridge-notifier|reconcile-container|composition-root/.test(f))).toEqual([]);
    expect(packages.has('standardwebhooks')).toBe(true);
    expect(packages.has('undici')).toBe(false);
  });

  it.each([
    ['reconcile', HANDLER_ENTRY],
    ['HTTP', HTTP_ENTRY],
  ])('returns a %s bundle with only the Powertools envelope schemas it parses (subpath imports, not the schemas index)', async (_name, entry) => {
    // Act
    const { inputs } = await bundled(entry);
    // Assert
    const schemas = inputs.filter((p) => p.includes('@aws-lambda-powertools/parser/lib/esm/schemas/'));
    expect(schemas.length).toBeGreaterThan(0);
    expect(schemas.filter((p) => /schemas\/(index|cognito|s3|dynamodb|kinesis)\.js$/.test(p))).toEqual([]);
  });

  it.each([
    ['reconcile', HANDLER_ENTRY],
    ['HTTP', HTTP_ENTRY],
  ])('returns a %s bundle with one copy of @aws-lambda-powertools/commons (every Powertools package on one version)', async (_name, entry) => {
    // Act
    const { inputs } = await bundled(entry);
    // Assert: a second version installs nested, under another package's node_modules
    const copies = new Set(inputs.flatMap((p) => /^(.*node_modules\/@aws-lambda-powertools\/commons)\//.exec(p)?.[1] ?? []));
    expect([...copies]).toEqual(['node_modules/@aws-lambda-powertools/commons']);
  });
});
