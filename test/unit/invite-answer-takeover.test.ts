// test --> LosantClient.createInvite against a node:http server on 127.0.0.1 whose POST answers are large (written in
// 64 KB pieces, as a socket delivers them): the scan takes the body over (the answer keeps none of it), finds the
// new invite by the order the answer states, and looks it up by email when that does not settle it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LosantClient } from '../../functions/losant/client.ts';
import type { RateGovernor } from '../../functions/losant/governor.ts';

const ID = '575ec8687ae143cd83dc4a97';
const TARGET = { instanceId: ID, orgId: ID };
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const open: RateGovernor = { acquire: async () => {}, onResponse: () => {} };
const hex = (n: number) => n.toString(16).padStart(24, '0');
const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, 0) + minute * 60_000).toISOString();

function invite(email: string, id: number, minute: number) {
  return { id: hex(id), email, role: 'view', applicationRoles: [], dashboardRoles: [], inviteDate: at(minute), ttl: 1000, hasExpired: false, disallowTransfer: false, _type: 'orgInvite' };
}
/** 3 000 other invites (~700 KB), one a minute back from minute 5 000. */
const others = Array.from({ length: 3000 }, (_, k) => invite(`p${k}@x.com`, 1000 + k, 5000 - k));
function collection(items: unknown[], sortField = 'inviteDate') {
  return JSON.stringify({ items, instanceId: ID, orgId: ID, count: items.length, sortField, sortDirection: sortField === 'inviteDate' ? 'desc' : 'asc', _type: 'orgInvites' });
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Answers POST invites with `posted`, GET invites (the lookup) with `listed`; records each request line. */
async function setUp(posted: string, listed: string) {
  const requests: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      const body = Buffer.from(req.method === 'POST' ? posted : listed);
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'content-length': body.length });
      for (let from = 0; from < body.length; from += 65_536) res.write(body.subarray(from, from + 65_536));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  const client = new LosantClient({ baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`, token: 'tok', governor: open, log: quiet, sleep: async () => {}, random: () => 0.5 });
  closers.push(() => client.close());
  return { client, requests };
}

describe('Function: LosantClient.createInvite (a large answer the scan takes over)', () => {
  it('returns the address\'s first item when the answer lists newest first, without a lookup', async () => {
    const older = invite('ann@x.com', 2, 1);
    const { client, requests } = await setUp(collection([invite('bob@x.com', 3, 6000), invite('ann@x.com', 1, 5500), ...others, older]), collection([older]));
    const result = await client.createInvite(TARGET, { email: 'ann@x.com', role: 'view' });
    expect(result).toEqual({ recovered: false, invite: expect.objectContaining({ id: hex(1), email: 'ann@x.com', inviteDate: at(5500) }) });
    expect(requests).toEqual([`POST /instances/${ID}/orgs/${ID}/invites`]);
  });

  it.each([
    ['an item after the first breaks the order it states', collection([invite('ann@x.com', 1, 10), invite('bob@x.com', 3, 6000), ...others, invite('ann@x.com', 2, 20)])],
    ['it does not list newest first', collection([invite('ann@x.com', 1, 10), ...others, invite('ann@x.com', 2, 20)], 'email')],
  ])('looks the invite up by email when %s (the body was not kept for a full parse)', async (_why, posted) => {
    const { client, requests } = await setUp(posted, collection([invite('ann@x.com', 1, 10), invite('ann@x.com', 2, 20)]));
    const result = await client.createInvite(TARGET, { email: 'ann@x.com', role: 'view' });
    expect(result.invite).toMatchObject({ id: hex(2), email: 'ann@x.com' });
    expect(requests).toEqual([`POST /instances/${ID}/orgs/${ID}/invites`, `GET /instances/${ID}/orgs/${ID}/invites?filterField=email&filter=ann%40x.com`]);
  });
});
