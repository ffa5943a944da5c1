// SCIM through the deployed HTTP function: the real composition root (SCIM_TOKEN_SECRET_ARN) over DynamoDB Local and
// the Losant emulator; Secrets Manager and SQS are real SDK clients answered in their middleware stack.
// Tokens bound to sources, the secret refetched at most once per 60 s, the per-token throttle, SQS DelaySeconds
// = scim.debounceSeconds and runs recorded with trigger `scim`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { createContainer, SCIM_TOKEN_BURST, type Container } from '../../functions/runtime/composition-root.ts';
import { keyedLog } from '../../functions/runtime/logger.ts';
import { dispatch } from '../../functions/handlers/index.handler.ts';
import type { JsonResult } from '../../functions/handlers/http.ts';
import { localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { memoryLog } from '../helpers/sync-harness.ts';
import { localSecretsClient, localSqsClient, memoryMetrics, lambdaEnv } from '../helpers/aws-local.ts';
import { fixture } from '../helpers/fixtures.ts';

const OKTA = randomBytes(24).toString('base64url');
const ENTRA = randomBytes(24).toString('base64url');
const ROTATED = randomBytes(24).toString('base64url');
const HTTP_FIXTURE = fixture('lambda/http-api-webhook.json') as APIGatewayProxyEventV2;
const SQS_FIXTURE = fixture('lambda/sqs-reconcile.json') as SQSEvent;
const LAMBDA_CONTEXT = { getRemainingTimeInMillis: () => 120_000 };
const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
/** an org the emulator does not hold: the ops target is only ever queued here, never run */
const OPS_ORG = 'a'.repeat(24);

let emulator: RunningEmulator;
let dynamo: DynamoDBClient;
let taskRoot: string;
let c: Container;
let baseEnv: Record<string, string>;
const clock = { ms: Date.now() };
const secrets: Record<string, string> = {};
const entries: SendMessageBatchRequestEntry[] = [];
const log = memoryLog();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dynamo = localDynamoClient();
  const table = uniqueTableName('scim-handler');
  await createTableIfMissing(dynamo, table);
  taskRoot = await mkdtemp(join(tmpdir(), 'invite-sync-scim-'));
  await writeFile(
    join(taskRoot, 'sync-config.json'),
    JSON.stringify({
      targets: [
        { name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: { title: 'Engineer' }, role: 'edit' }] },
        { name: 'ops', instanceId: DEFAULT_ID, orgId: OPS_ORG, rules: [{ when: {}, role: 'view' }] },
      ],
      // okta feeds every target; entra only eng
      sources: { entra: { targets: ['eng'] } },
    }),
  );
  const scimArn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:ScimTokens';
  const env = lambdaEnv(table, emulator.url, taskRoot, { SCIM_TOKEN_SECRET_ARN: scimArn });
  baseEnv = env;
  Object.assign(secrets, {
    [env.LOSANT_TOKEN_SECRET_ARN]: DEFAULT_TOKEN,
    [env.WEBHOOK_SECRET_ARN]: `whsec_${randomBytes(32).toString('base64')}`,
    [scimArn]: JSON.stringify([
      { token: OKTA, source: 'okta' },
      { token: ENTRA, source: 'entra' },
    ]),
  });
  c = await createContainer(env, {
    dynamoClient: dynamo,
    secretsClient: localSecretsClient(secrets),
    sqsClient: localSqsClient(undefined, entries),
    log: keyedLog(log),
    metrics: memoryMetrics([]),
    clock: { now: () => clock.ms },
  });
});

afterAll(async () => {
  await (c?.api as { close?: () => Promise<void> } | undefined)?.close?.();
  await emulator?.close();
  dynamo?.destroy();
  if (taskRoot) await rm(taskRoot, { recursive: true, force: true });
});

function request(method: string, path: string, token: string | undefined, body?: unknown, query?: Record<string, string>): APIGatewayProxyEventV2 {
  const event = structuredClone(HTTP_FIXTURE);
  const text = body === undefined ? undefined : JSON.stringify(body);
  event.rawPath = `/scim/v2${path}`;
  event.routeKey = 'ANY /scim/v2/{proxy+}';
  event.requestContext.http.method = method;
  event.requestContext.http.path = event.rawPath;
  event.headers = { host: event.requestContext.domainName, ...(token ? { authorization: `Bearer ${token}` } : {}), ...(text ? { 'content-type': 'application/scim+json' } : {}) };
  if (query) {
    event.queryStringParameters = query;
    event.rawQueryString = new URLSearchParams(query).toString();
  } else {
    delete event.queryStringParameters;
    event.rawQueryString = '';
  }
  if (text === undefined) delete event.body;
  else event.body = text;
  event.isBase64Encoded = false;
  return event;
}

async function call(method: string, path: string, token: string | undefined, body?: unknown, query?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, string> }> {
  const res = (await dispatch(request(method, path, token, body, query), LAMBDA_CONTEXT, c)) as JsonResult;
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {}, headers: res.headers };
}

const user = (email: string, title = 'Engineer') => ({ schemas: [USER_URN], userName: email, emails: [{ value: email, primary: true }], title });

describe('SCIM on the HTTP function', () => {
  it('each token creates people of its own source; targets are queued with DelaySeconds 30 and trigger scim; the queue run records trigger scim', async () => {
    const email = `okta.${randomUUID().slice(0, 6)}@example.com`;
    entries.length = 0;
    const created = await call('POST', '/Users', OKTA, user(email));
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toBe('application/scim+json');
    expect(String((created.body.meta as { location: string }).location)).toBe(`https://${HTTP_FIXTURE.requestContext.domainName}/scim/v2/Users/${String(created.body.id)}`);
    // the other IdP does not see it, and may create its own user with the same userName
    expect((await call('GET', '/Users', ENTRA, undefined, { filter: `userName eq "${email}"` })).body.totalResults).toBe(0);
    const other = `entra.${randomUUID().slice(0, 6)}@example.com`;
    expect((await call('POST', '/Users', ENTRA, { ...user(email, 'Sales'), emails: [{ value: other, primary: true }] })).status).toBe(201);
    const people = (await c.store.listPeople()).filter((p) => p.email === email || p.email === other);
    expect(people.map((p) => [p.source, p.email])).toEqual(expect.arrayContaining([['okta', email], ['entra', other]]));
    expect(people).toHaveLength(2);
    expect(people.every((p) => p.identity.startsWith('scim:'))).toBe(true);
    // each SCIM write is a delivery of its source (maxSilenceHours, plan's Sources block)
    const delivered = ((await c.store.listSourceDeliveries?.()) ?? []).map((d) => d.source);
    expect(delivered).toEqual(expect.arrayContaining(['okta', 'entra']));
    // answered without Losant: only queued, 30 s later, trigger scim
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email)).not.toContain(email);
    // okta's write queues both targets, entra's only eng (sources.entra.targets)
    expect(entries.map((e) => [e.DelaySeconds, JSON.parse(e.MessageBody!).trigger, JSON.parse(e.MessageBody!).target])).toEqual([
      [30, 'scim', 'eng'],
      [30, 'scim', 'ops'],
      [30, 'scim', 'eng'],
    ]);
    const template = SQS_FIXTURE.Records[0]!;
    const batch = await dispatch({ Records: [{ ...structuredClone(template), messageId: randomUUID(), body: entries[0]!.MessageBody! }] }, LAMBDA_CONTEXT, c);
    expect(batch).toEqual({ batchItemFailures: [] });
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).find((i) => i.email.toLowerCase() === email)?.role).toBe('edit');
    const runs = await c.store.listRuns({ limit: 5 });
    expect(runs[0]?.trigger).toBe('scim');
  });

  it('every endpoint of /scim/v2 answers on the HTTP function (Users, Groups, each verb; discovery)', async () => {
    const email = `ep.${randomUUID().slice(0, 6)}@example.com`;
    const seen: [string, number][] = [];
    const go = async (method: string, path: string, body?: unknown, query?: Record<string, string>) => {
      const res = await call(method, path, OKTA, body, query);
      seen.push([`${method} ${path.replace(/\/[A-Za-z0-9_-]{22}$/, '/{id}')}`, res.status]);
      return res;
    };
    const u = await go('POST', '/Users', user(email));
    const uid = String(u.body.id);
    await go('GET', '/Users', undefined, { filter: `userName eq "${email}"`, startIndex: '1', count: '10' });
    await go('GET', `/Users/${uid}`);
    await go('PUT', `/Users/${uid}`, user(email, 'Staff Engineer'));
    await go('PATCH', `/Users/${uid}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Engineer' }] });
    const g = await go('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `G-${randomUUID().slice(0, 6)}`, members: [{ value: uid }] });
    const gid = String(g.body.id);
    await go('GET', '/Groups', undefined, { filter: `displayName eq "${String(g.body.displayName)}"`, excludedAttributes: 'members' });
    await go('GET', `/Groups/${gid}`);
    await go('PUT', `/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `${String(g.body.displayName)}-x`, members: [] });
    await go('PATCH', `/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: uid }] }] });
    await go('DELETE', `/Groups/${gid}`);
    await go('DELETE', `/Users/${uid}`);
    await go('GET', `/Users/${uid}`);
    await go('GET', '/ServiceProviderConfig');
    await go('GET', '/ResourceTypes');
    await go('GET', '/Schemas');
    expect(seen).toEqual([
      ['POST /Users', 201],
      ['GET /Users', 200],
      ['GET /Users/{id}', 200],
      ['PUT /Users/{id}', 200],
      ['PATCH /Users/{id}', 200],
      ['POST /Groups', 201],
      ['GET /Groups', 200],
      ['GET /Groups/{id}', 200],
      ['PUT /Groups/{id}', 200],
      ['PATCH /Groups/{id}', 200],
      ['DELETE /Groups/{id}', 204],
      ['DELETE /Users/{id}', 204],
      ['GET /Users/{id}', 404],
      ['GET /ServiceProviderConfig', 200],
      ['GET /ResourceTypes', 200],
      ['GET /Schemas', 200],
    ]);
  });

  it('a wrong or missing token is 401 with a detail that names no user; the secret is refetched at most once per 60 s', async () => {
    const missing = await call('GET', '/Users', undefined);
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401', detail: expect.any(String) });
    // rotation: the operator adds a token; the first request with it may come within 60 s of the last fetch
    const arn = Object.keys(secrets).find((k) => k.endsWith('ScimTokens'))!;
    secrets[arn] = JSON.stringify([
      { token: OKTA, source: 'okta' },
      { token: ROTATED, source: 'okta' },
    ]);
    clock.ms += 1_000;
    expect((await call('GET', '/Users', ROTATED)).status).toBe(401);
    clock.ms += 61_000;
    expect((await call('GET', '/Users', ROTATED)).status).toBe(200);
    expect(log.lines.join('\n')).not.toContain(ROTATED);
    expect(log.lines.join('\n')).not.toContain(OKTA);
  });

  it('throttles each token in the function: 429 SCIM error with Retry-After past the burst; other tokens unaffected', async () => {
    clock.ms += 600_000;
    const statuses: number[] = [];
    // (the rotation above left OKTA and ROTATED in the secret)
    for (let i = 0; i < SCIM_TOKEN_BURST + 1; i++) statuses.push((await call('GET', '/ServiceProviderConfig', ROTATED)).status);
    expect(statuses.slice(0, SCIM_TOKEN_BURST).every((s) => s === 200)).toBe(true);
    const limited = await call('GET', '/ServiceProviderConfig', ROTATED);
    expect([limited.status, limited.body.status]).toEqual([429, '429']);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await call('GET', '/ServiceProviderConfig', OKTA)).status).toBe(200);
    clock.ms += 5_000;
    expect((await call('GET', '/ServiceProviderConfig', ROTATED)).status).toBe(200);
  });

  it('a store failure is a 500 SCIM error that names nothing of the request, and is logged with emails masked', async () => {
    const env = lambdaEnv(uniqueTableName('missing'), emulator.url, taskRoot, { SCIM_TOKEN_SECRET_ARN: Object.keys(secrets).find((k) => k.endsWith('ScimTokens'))! });
    const broken = await createContainer(env, { dynamoClient: dynamo, secretsClient: localSecretsClient(secrets), sqsClient: localSqsClient(), log: keyedLog(log), metrics: memoryMetrics([]), clock: { now: () => clock.ms } });
    const email = `broken.${randomUUID().slice(0, 6)}@example.com`;
    const res = (await dispatch(request('POST', '/Users', OKTA, user(email)), LAMBDA_CONTEXT, broken)) as JsonResult;
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '500', detail: 'the request could not be completed; retry later' });
    expect(log.lines.some((l) => l.includes('scim request failed'))).toBe(true);
    expect(log.lines.join('\n')).not.toContain(email);
    await (broken.api as { close?: () => Promise<void> }).close?.();
  });

  it('a create whose person write failed is repaired by the IdP\'s retry: the 409 goes out with the person written and the target queued', async () => {
    // Prepare (OKTA: the rotation above left OKTA and ROTATED in the secret): a host on the same table whose next person write (a transaction putting a PEOPLE# item) fails
    // as a throttled DynamoDB would (the store's document client copies the middleware of the client it is given)
    let failNextPersonWrite = true;
    const faulty = localDynamoClient();
    faulty.middlewareStack.add(
      (next, context) => async (args) => {
        const items = (args.input as { TransactItems?: { Put?: { Item?: { pk?: unknown } } }[] }).TransactItems ?? [];
        const pkOf = (pk: unknown) => (typeof pk === 'string' ? pk : ((pk as { S?: string } | undefined)?.S ?? ''));
        if (failNextPersonWrite && /TransactWrite/.test(String(context.commandName)) && items.some((t) => pkOf(t.Put?.Item?.pk).startsWith('PEOPLE#'))) {
          failNextPersonWrite = false;
          throw Object.assign(new Error('injected: rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failOnePersonWrite' },
    );
    const host = await createContainer(baseEnv, { dynamoClient: faulty, secretsClient: localSecretsClient(secrets), sqsClient: localSqsClient(undefined, entries), log: keyedLog(log), metrics: memoryMetrics([]), clock: { now: () => clock.ms } });
    const post = async (body: unknown) => {
      const res = (await dispatch(request('POST', '/Users', OKTA, body), LAMBDA_CONTEXT, host)) as JsonResult;
      return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
    };
    const email = `retry.${randomUUID().slice(0, 6)}@example.com`;
    entries.length = 0;

    // Act: the IdP's POST fails after the user was stored; it retries the same POST
    const first = await post(user(email));
    const peopleAfterFailure = (await c.store.listPeople()).filter((p) => p.email === email);
    const retried = await post(user(email));
    const again = await post(user(email));
    await (host.api as { close?: () => Promise<void> }).close?.();
    faulty.destroy();

    // Assert
    expect(failNextPersonWrite).toBe(false);
    expect(first.status).toBe(500);
    expect(peopleAfterFailure).toEqual([]);
    expect([retried.status, retried.body.scimType]).toEqual([409, 'uniqueness']);
    const found = await call('GET', '/Users', OKTA, undefined, { filter: `userName eq "${email}"` });
    const id = String((found.body.Resources as { id: string }[])[0]!.id);
    const people = (await c.store.listPeople()).filter((p) => p.email === email);
    expect(people.map((p) => [p.source, p.identity])).toEqual([['okta', `scim:${id}`]]);
    expect(entries.map((e) => JSON.parse(e.MessageBody!).target)).toEqual(['eng', 'ops']);
    expect(log.lines.filter((l) => l.includes('SCIM create met a user without its person'))).toHaveLength(1);
    // a third POST finds the person there: 409 again, nothing written or queued
    expect(again.status).toBe(409);
    expect(entries).toHaveLength(2);
  });

  it('a flood of wrong tokens fetches the token secret at most once per 60 s (per instance)', async () => {
    // Prepare: a fresh instance whose Secrets Manager client counts the reads of the SCIM token secret
    const scimArn = Object.keys(secrets).find((k) => k.endsWith('ScimTokens'))!;
    const secretsClient = localSecretsClient(secrets);
    let reads = 0;
    secretsClient.middlewareStack.add(
      (next) => async (args) => {
        if ((args.input as { SecretId?: string }).SecretId === scimArn) reads++;
        return next(args);
      },
      { step: 'initialize', name: 'countScimSecretReads', priority: 'high' },
    );
    const host = await createContainer(baseEnv, { dynamoClient: dynamo, secretsClient, sqsClient: localSqsClient(), log: keyedLog(log), metrics: memoryMetrics([]), clock: { now: () => clock.ms } });
    const wrong = async () => ((await dispatch(request('GET', '/Users', randomBytes(24).toString('base64url')), LAMBDA_CONTEXT, host)) as JsonResult).statusCode;

    // Act + Assert: 20 forged tokens within a minute read the secret once; a minute later, once more
    const first = await Promise.all(Array.from({ length: 20 }, wrong));
    expect(first).toEqual(Array(20).fill(401));
    expect(reads).toBe(1);
    clock.ms += 30_000;
    expect(await wrong()).toBe(401);
    expect(reads).toBe(1);
    clock.ms += 31_000;
    for (let i = 0; i < 5; i++) expect(await wrong()).toBe(401);
    expect(reads).toBe(2);
    await (host.api as { close?: () => Promise<void> }).close?.();
  });

  it('a body over 256 KiB is 413 (a SCIM error) before anything is stored', async () => {
    clock.ms += 600_000;
    const email = `big.${randomUUID().slice(0, 6)}@example.com`;
    const res = await call('POST', '/Users', OKTA, { ...user(email), title: 'x'.repeat(256 * 1024) });
    expect([res.status, res.body.status, res.headers['content-type']]).toEqual([413, '413', 'application/scim+json']);
    expect((await call('GET', '/Users', OKTA, undefined, { filter: `userName eq "${email}"` })).body.totalResults).toBe(0);
  });

  it('the webhook route is unchanged beside /scim/v2', async () => {
    const res = (await dispatch({ ...request('POST', '/x', undefined, {}), rawPath: '/webhook', routeKey: 'POST /webhook' }, LAMBDA_CONTEXT, c)) as JsonResult;
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_signature' });
  });
});
