// tests --> serve's app with SCIM on a DynamoDB Local table (startScimServe) and a SCIM client over real HTTP (scimClient)
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import type { LosantClient } from '../../functions/losant/client.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { scimStoreOf } from '../../functions/state/scim-store.ts';
import { parseServeScimTokens, staticScimAuth } from '../../functions/scim/auth.ts';
import type { Log } from '../../functions/sync/ports.ts';
import { startServeApp, type ServeApp } from '../../cli/commands/serve.ts';

export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';

export interface ScimServe {
  app: ServeApp;
  base: string;
  store: DynamoStateStore;
}

/** serve's app on `tableName` with SCIM_TOKEN `tokens` (answers capped at `maxAnswerBytes` when given); the store and the app read one clock. */
export async function startScimServe(opts: { ddb: DynamoDBClient; api: LosantClient; tableName: string; config: unknown; tokens: string; log: Log; clock?: { now(): number }; maxAnswerBytes?: number }): Promise<ScimServe> {
  const clock = opts.clock ?? { now: () => Date.now() };
  const store = new DynamoStateStore({ tableName: opts.tableName, client: opts.ddb, now: () => clock.now() });
  const app = startServeApp({
    config: parseSyncConfig(opts.config),
    api: opts.api,
    store,
    clock,
    log: opts.log,
    webhookSecret: `whsec_${randomBytes(32).toString('base64')}`,
    scim: { store: scimStoreOf(store), auth: staticScimAuth(parseServeScimTokens(opts.tokens)), ...(opts.maxAnswerBytes !== undefined ? { maxAnswerBytes: opts.maxAnswerBytes } : {}) },
  });
  const { port } = await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${port}/scim/v2`, store };
}

export interface ScimAnswer {
  status: number;
  body: Record<string, unknown> & { Resources?: Record<string, unknown>[] };
  headers: Headers;
}

/** A SCIM client for `base` sending `Authorization: Bearer <token>` and application/scim+json bodies. */
export function scimClient(base: string, token: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ScimAnswer> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as ScimAnswer['body']) : {}, headers: res.headers };
  };
}

/** Resolves once the serve app's in-process queue is empty (throws after ~15 s). */
export async function queueIdle(app: ServeApp): Promise<void> {
  for (let i = 0; i < 600 && app.queue.size > 0; i++) await new Promise((r) => setTimeout(r, 25));
  if (app.queue.size > 0) throw new Error(`the reconcile queue still holds ${app.queue.size} target(s)`);
}
