// Property over real HTTP (serve's app) on DynamoDB Local: any sequence of PATCH operations (as Okta and Entra send
// them) leaves the stored user — read back with GET /Users/{id} — equal to applying the same operations to a plain
// object model (test/helpers/scim-patch-model.ts), whether sent as one PATCH or one PATCH per operation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { scimStoreOf } from '../../functions/state/scim-store.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { parseServeScimTokens, staticScimAuth } from '../../functions/scim/auth.ts';
import { PATCH_OP_SCHEMA, USER_SCHEMA } from '../../functions/scim/errors.ts';
import { parseUser } from '../../functions/scim/resources.ts';
import { startServeApp, type ServeApp } from '../../cli/commands/serve.ts';
import { cleanModel, startUser, userSteps, type Model } from '../helpers/scim-patch-model.ts';
import { localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { memoryLog } from '../helpers/sync-harness.ts';

const TOKEN = randomBytes(24).toString('base64url');
let emulator: RunningEmulator;
let ddb: DynamoDBClient;
let api: LosantClient;
let app: ServeApp;
let base: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ddb = localDynamoClient();
  const table = uniqueTableName('scim-patch-prop');
  await createTableIfMissing(ddb, table);
  const log = memoryLog();
  api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, log });
  const store = new DynamoStateStore({ tableName: table, client: ddb });
  // the writes' reconcile waits out a long debounce (it runs once, at stop): this file checks the stored users only
  const config = parseSyncConfig({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: { department: 'no-such-department' }, role: 'view' }] }], scim: { debounceSeconds: 900 } });
  app = startServeApp({ config, api, store, clock: { now: () => Date.now() }, log, webhookSecret: `whsec_${randomBytes(32).toString('base64')}`, scim: { store: scimStoreOf(store), auth: staticScimAuth(parseServeScimTokens(TOKEN)) } });
  base = `http://127.0.0.1:${(await app.listen(0, '127.0.0.1')).port}/scim/v2`;
});

afterAll(async () => {
  await app?.stop();
  await api?.close();
  await emulator?.close();
  ddb?.destroy();
});

async function scim(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The stored attributes of a user as GET answers it, without what the server adds (`schemas`, `id`, `meta`, `groups`). */
function storedAttrs(body: Record<string, unknown>): Model {
  const { schemas: _s, id: _id, meta: _m, groups: _g, ...rest } = body;
  return rest;
}

describe('Property: PATCH over HTTP leaves the stored user equal to the plain object model', () => {
  it('for any sequence of operations on a random user, as one PATCH or one PATCH per operation', async () => {
    await fc.assert(
      fc.asyncProperty(startUser, fc.array(fc.oneof(...userSteps), { minLength: 1, maxLength: 8 }), fc.boolean(), async (start, steps, onePatch) => {
        const userName = `p.${randomUUID()}@example.com`;
        const created = await scim('POST', '/Users', { schemas: [USER_SCHEMA], userName, ...start });
        expect(created.status).toBe(201);
        const id = String(created.body.id);
        const model = cleanModel(structuredClone(parseUser({ userName, ...start }) as unknown as Model));
        for (const s of steps) s.model(model);

        const bodies = onePatch ? [steps.map((s) => s.op)] : steps.map((s) => [s.op]);
        for (const Operations of bodies) {
          const res = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP_SCHEMA], Operations });
          expect(res.status, JSON.stringify(res.body)).toBe(200);
        }

        const stored = await scim('GET', `/Users/${id}`);
        expect(storedAttrs(stored.body)).toEqual(model);
        expect((stored.body.meta as { version: string }).version).toBe(`W/"${1 + bodies.length}"`);
      }),
      { numRuns: 40 },
    );
  });
});
