// test --> reconcileTarget / LosantClient against a stand-in server on 127.0.0.1 (real HTTP, in front of the
// emulator) that answers what a real network can: lists without items, a wrong count, an endless body.
// An answer that cannot be trusted fails the target and plans nothing; it never shrinks the world.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ID, DEFAULT_TOKEN, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { LosantApiError } from '../../functions/losant/errors.ts';
import { TargetReportSchema } from '../../functions/state/items.schema.ts';
import { reconcileTarget, type SyncDeps } from '../../functions/sync/reconcile.ts';
import type { Log } from '../../functions/sync/ports.ts';
import type { Person, TargetRef } from '../../functions/sync/types.ts';
import { MemoryStateStore } from '../helpers/memory-store.ts';

const target: TargetRef = { instanceId: DEFAULT_ID, orgId: DEFAULT_ID };
const quiet: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const INVITES = `/instances/${DEFAULT_ID}/orgs/${DEFAULT_ID}/invites`;

type Rewrite = (req: { method: string; url: string }, body: Record<string, unknown>) => Record<string, unknown>;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function listen(server: Server): Promise<string> {
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

/** Passes every request to the emulator and lets `rewrite` change JSON answers of GET requests. */
async function standIn(emulator: RunningEmulator, rewrite: Rewrite): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
      const headers: Record<string, string> = { authorization: String(req.headers.authorization ?? '') };
      if (chunks.length) headers['content-type'] = 'application/json';
      const up = await fetch(`${emulator.url}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
      let text = await up.text();
      if (req.method === 'GET' && up.status === 200) text = JSON.stringify(rewrite({ method: 'GET', url: req.url ?? '/' }, JSON.parse(text) as Record<string, unknown>));
      res.writeHead(up.status, { 'content-type': 'application/json' });
      res.end(text);
    })();
  });
  return listen(server);
}

async function world(rewrite: Rewrite) {
  const emulator = await startEmulator({ port: 0, seed: { instances: [{ id: DEFAULT_ID, orgs: [{ id: DEFAULT_ID, invites: [{ email: 'old@example.com', role: 'edit' }] }] }] } });
  closers.push(() => emulator.close());
  const api = new LosantClient({ baseUrl: await standIn(emulator, rewrite), token: DEFAULT_TOKEN, retry: { baseDelayMs: 1 } });
  closers.push(() => api.close());
  const store = new MemoryStateStore({});
  const people: Person[] = ['old@example.com', 'new@example.com'].map((email) => ({ email, status: 'active', attributes: { department: 'Engineering' } }));
  await store.replaceSource('default', people, new Date(Date.now() - 1000).toISOString());
  const config = parseSyncConfig({ targets: [{ name: 'eng', ...target, rules: [{ when: { department: 'Engineering' }, role: 'edit' }] }] });
  const deps: SyncDeps = { api, store, clock: { now: () => Date.now() }, log: quiet };
  const report = await reconcileTarget(deps, config, config.targets[0]!, { mode: 'apply', runId: 'r-1', owner: 'o-1', deadline: Date.now() + 30_000 });
  const posts = emulator.stats().requests.filter((r) => r.method === 'POST').reduce((n, r) => n + r.count, 0);
  return { report, posts };
}

const unfilteredInvites = (req: { url: string }) => req.url === INVITES;

describe('Function: reconcileTarget with list answers that cannot be trusted', () => {
  it.each<[string, Rewrite]>([
    ['a pending list without items', (req, body) => (unfilteredInvites(req) ? { ...body, items: undefined, count: 0 } : body)],
    ['a pending list whose count is not its length', (req, body) => (unfilteredInvites(req) ? { ...body, items: [] } : body)],
    ['a pending list whose items is not an array', (req, body) => (unfilteredInvites(req) ? { ...body, items: { 0: body.items } } : body)],
    ['a members list without items', (req, body) => (req.url.endsWith('/members') ? { count: 0 } : body)],
    ['a members list whose count is not its length', (req, body) => (req.url.endsWith('/members') ? { ...body, count: 3 } : body)],
  ])('returns an invalidResponse failure, plans nothing and sends nothing for %s', async (_name, rewrite) => {
    // Act
    const { report, posts } = await world(rewrite);

    // Assess: old@example.com is pending; reading "nobody pending" would have invited them again
    expect(report.error?.code).toBe('invalidResponse');
    expect(report.error?.message).toMatch(/no items|count [13] but holds 0|items: Invalid input: expected array/);
    expect(report.planned).toEqual({ invite: 0, renew: 0, fixRole: 0, revoke: 0, remove: 0 });
    expect(posts).toBe(0);
  });

  it('stores the invalidResponse code with the run, and reads a code it does not know as other', async () => {
    // Act
    const { report } = await world((req, body) => (unfilteredInvites(req) ? { ...body, items: undefined } : body));

    // Assess
    expect(TargetReportSchema.parse(report).error?.code).toBe('invalidResponse');
    expect(TargetReportSchema.parse({ ...report, error: { code: 'fromALaterVersion', message: 'x' } }).error?.code).toBe('other');
  });

  it('returns a complete run for the same answers left as they are (the stand-in changes nothing by itself)', async () => {
    // Act
    const { report, posts } = await world((_req, body) => body);

    // Assess
    expect(report.error).toBeUndefined();
    expect(report.done.invite).toBe(1);
    expect(posts).toBe(1);
  });
});

describe('Function: LosantClient with an endless answer', () => {
  it('returns invalidResponse once the body passes maxAnswerBytes, closing the connection, with memory bounded', async () => {
    // Arrange: a server that sends `[` and then spaces for as long as the socket takes them
    let sent = 0;
    let closed = false;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      res.write('[');
      const pump = () => {
        while (!res.destroyed && sent < 512 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', () => (closed = true));
      pump();
    });
    const url = await listen(server);
    const api = new LosantClient({ baseUrl: url, token: DEFAULT_TOKEN, maxAnswerBytes: 1024 * 1024, retry: { maxAttempts: 3, baseDelayMs: 1 } });
    closers.push(() => api.close());
    const heapBefore = process.memoryUsage().heapUsed;

    // Act
    const err = await api.listPending(target).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(LosantApiError);
    expect((err as LosantApiError).kind).toBe('invalidResponse');
    expect((err as LosantApiError).attempts).toBe(1);
    await expect.poll(() => closed).toBe(true);
    expect(sent).toBeLessThan(32 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('Function: LosantClient with an answer whose Content-Length passes the cap', () => {
  it('returns invalidResponse without reading the body, closes the connection, and the process carries on', async () => {
    // Arrange: 16 KiB announced and sent at once; the cap is 4 KiB (the body destroyed unread must not throw out of the process)
    let closed = false;
    const body = Buffer.alloc(16 * 1024, 0x20);
    const server = createServer((_req, res) => {
      res.on('close', () => (closed = true));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      res.end(body);
    });
    const api = new LosantClient({ baseUrl: await listen(server), token: DEFAULT_TOKEN, maxAnswerBytes: 4096, retry: { maxAttempts: 3, baseDelayMs: 1 } });
    closers.push(() => api.close());
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);

    // Act
    const err = await api.listPending(target).catch((e: unknown) => e);
    await expect.poll(() => closed).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    process.off('uncaughtException', onUncaught);

    // Assess
    expect(err).toBeInstanceOf(LosantApiError);
    expect((err as LosantApiError).kind).toBe('invalidResponse');
    expect((err as LosantApiError).message).toContain('limits.maxAnswerBytes');
    expect(uncaught).toEqual([]);
  });
});

describe('Function: parseSyncConfig (limits.maxAnswerBytes)', () => {
  const doc = { targets: [{ name: 'eng', ...target, rules: [{ when: { department: 'Engineering' }, role: 'edit' }] }] };

  it('returns 64 MiB by default and the value given otherwise', () => {
    // Act
    const byDefault = parseSyncConfig(doc);
    const given = parseSyncConfig({ ...doc, limits: { maxAnswerBytes: 2048 } });

    // Assess
    expect(byDefault.limits.maxAnswerBytes).toBe(64 * 1024 * 1024);
    expect(given.limits.maxAnswerBytes).toBe(2048);
  });

  it('throws naming the field for a cap below 1 KiB', () => {
    expect(() => parseSyncConfig({ ...doc, limits: { maxAnswerBytes: 10 } }, 'c.json')).toThrow(/c\.json: limits\.maxAnswerBytes/);
  });
});
