// test --> LosantTransport / LosantClient.createInvite against a raw node:net server whose answers break HTTP's framing:
// a body shorter than its Content-Length, a chunked body without its last chunk, a body over maxAnswerBytes. The
// bytes that came hold a whole collection with the invite: the call must fail, never read them as "found".
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LosantClient } from '../../functions/losant/client.ts';
import type { RateGovernor } from '../../functions/losant/governor.ts';
import { LosantTransport } from '../../functions/losant/transport.ts';
import { ROUTES } from '../../functions/losant/routes.ts';
import { ApiError } from '../../functions/sync/errors.ts';

const ID = '575ec8687ae143cd83dc4a97';
const TARGET = { instanceId: ID, orgId: ID };
const INVITES = `/instances/${ID}/orgs/${ID}/invites`;
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const open: RateGovernor = { acquire: async () => {}, onResponse: () => {} };
const BODY = JSON.stringify({
  items: [{ id: 'a'.repeat(24), email: 'ann@x.com', role: 'view', inviteDate: '2024-05-01T10:00:00.000Z', hasExpired: false }],
  count: 1,
});

type Framing = 'short' | 'unterminated' | 'whole';

/** Answers every request (POST or GET) 201/200 with BODY framed as asked, then closes the socket. */
function rawServer(framing: Framing): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((socket: Socket) => {
    let head = '';
    socket.on('data', (data: Buffer) => {
      head += data.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const line = head.slice(0, head.indexOf('\r\n'));
      requests.push(line);
      const status = line.startsWith('POST') ? '201 Created' : '200 OK';
      if (framing === 'short') socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${BODY.length + 10}\r\n\r\n${BODY}`);
      else if (framing === 'unterminated') {
        socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${BODY.length.toString(16)}\r\n${BODY}\r\n`);
      } else socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${BODY.length}\r\nconnection: close\r\n\r\n${BODY}`);
      head = '';
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests, server })));
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setUp(framing: Framing, maxAnswerBytes?: number) {
  const { url, requests, server } = await rawServer(framing);
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  const options = { baseUrl: url, token: 'tok', governor: open, sleep: async () => {}, now: Date.now, log: quiet, ...(maxAnswerBytes ? { maxAnswerBytes } : {}) };
  const transport = new LosantTransport(options);
  const client = new LosantClient({ ...options, random: () => 0.5, retry: { maxAttempts: 2, baseDelayMs: 1 } });
  closers.push(() => transport.close(), () => client.close());
  return { transport, client, requests };
}
const post = { method: 'POST', route: ROUTES.invites, path: INVITES, body: { email: 'ann@x.com', role: 'view' } } as const;

describe('Class: LosantTransport (answer framing is undici\'s)', () => {
  it('hands over the bytes of a whole answer as received, and its text', async () => {
    const { transport } = await setUp('whole');
    const outcome = await transport.send(post, {}, 1);
    expect(outcome.ok && Buffer.concat(outcome.chunks).toString('utf8')).toBe(BODY);
    expect(outcome.ok && outcome.text).toBe(BODY);
  });

  it('feeds every chunk of the answer to the spec\'s watch as it reads it', async () => {
    const { transport } = await setUp('whole');
    const seen: Buffer[] = [];
    const outcome = await transport.send({ ...post, watch: () => ({ push: (chunk: Buffer) => seen.push(chunk) < 0 }) }, {}, 1);
    expect(Buffer.concat(seen).toString('utf8')).toBe(BODY);
    expect(outcome.ok && outcome.watched).toBeDefined();
    expect(outcome.ok && Buffer.concat(outcome.chunks).toString('utf8')).toBe(BODY);
    expect(outcome).toMatchObject({ ok: true, taken: false });
  });

  it('keeps none of the body once the watch takes it over (it still reads it to its end)', async () => {
    const { transport } = await setUp('whole');
    let bytes = 0;
    const outcome = await transport.send({ ...post, watch: () => ({ push: (chunk: Buffer) => (bytes += chunk.length) > 0 }) }, {}, 1);
    expect(bytes).toBe(Buffer.byteLength(BODY));
    expect(outcome).toMatchObject({ ok: true, status: 201, taken: true, chunks: [], text: '', bytes: Buffer.byteLength(BODY) });
  });

  it.each<Framing>(['short', 'unterminated'])('reports no answer (a dropped connection) for a %s body', async (framing) => {
    const { transport } = await setUp(framing);
    const outcome = await transport.send(post, {}, 1);
    expect(outcome).toMatchObject({ ok: false, reason: 'network', sent: true });
  });

  it('cuts off a body over maxAnswerBytes: no bytes, no text', async () => {
    const { transport } = await setUp('whole', 64);
    const outcome = await transport.send(post, {}, 1);
    expect(outcome).toMatchObject({ ok: true, cutOff: true, text: '', chunks: [] });
  });
});

describe('Function: LosantClient.createInvite over a broken answer', () => {
  it.each<Framing>(['short', 'unterminated'])('fails for a %s body, never finding the invite in the bytes that came', async (framing) => {
    const { client, requests } = await setUp(framing);
    const err = await client.createInvite(TARGET, { email: 'ann@x.com', role: 'view' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(requests[0]).toMatch(/^POST /);
    expect(requests.slice(1).every((r) => r.startsWith('GET '))).toBe(true); // the lookup by email, itself refused
  });

  it('fails for a body over maxAnswerBytes whose lookup is cut off too', async () => {
    const { client } = await setUp('whole', 64);
    const err = await client.createInvite(TARGET, { email: 'ann@x.com', role: 'view' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('invalidResponse');
  });

  it('finds the invite in a whole answer (the same server, framed right)', async () => {
    const { client } = await setUp('whole');
    expect((await client.createInvite(TARGET, { email: 'ann@x.com', role: 'view' })).invite.id).toBe('a'.repeat(24));
  });
});
