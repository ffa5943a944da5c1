// test --> losant-rest (Losant's official JS client, axios) --> real HTTP on 127.0.0.1 --> the emulator
//
// The emulator must accept every route, query and header Losant's own client sends. losant-rest 2.8.1
// has actions for the org (instanceOrg), the members collection (instanceOrgMembers) and one member
// (instanceOrgMember), which invite-sync reads and writes; for the invite routes it has none, so they go through
// its generic `client.request`, built exactly as the later losant-rest-js actions
// (instanceOrgInvites.js, instanceOrgInvite.js) build them: the URI template path, the default query
// `_actions=false&_links=true&_embedded=true`, `data: {}` on POST and DELETE, and the caller's fields.
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ID, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { expectValid } from '../helpers/schemas.ts';

/** A request as losant-rest's actions hand it to `client.request` (then axios). */
interface LosantRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  params: Record<string, unknown>;
  data?: unknown;
}
interface LosantClientOptions { url: string; accessToken: string; acceptVersion?: string }
interface LosantRestClient {
  request(req: LosantRequest): Promise<unknown>;
  instanceOrgMembers: { get(params: Record<string, unknown>): Promise<unknown>; post(params: Record<string, unknown>): Promise<unknown> };
  instanceOrg: { get(params: Record<string, unknown>): Promise<unknown> };
  instanceOrgMember: Record<'get' | 'patch' | 'delete', (params: Record<string, unknown>) => Promise<unknown>>;
}
/** What losant-rest throws on a non-2xx answer: the error body's fields plus the status. */
interface LosantRestError extends Error { statusCode?: number; type?: string }

/** What reached the wire, read from the Node ClientRequest axios used. */
interface Sent { method: string; path: string; headers: Record<string, unknown>; body: unknown }
interface AxiosAnswer { request?: { method: string; path: string; getHeaders(): Record<string, unknown> }; config?: { data?: unknown } }
interface AxiosLike { interceptors: { response: { use(ok: (r: AxiosAnswer) => AxiosAnswer, bad: (e: { response?: AxiosAnswer }) => Promise<never>): number; eject(id: number): void } } }

const require = createRequire(import.meta.url);
const losantRest = require('losant-rest') as { createClient(options: LosantClientOptions): LosantRestClient };
// the axios instance losant-rest itself requires (its own dependency, not ours)
const axios = createRequire(require.resolve('losant-rest'))('axios') as AxiosLike;

const I = DEFAULT_ID;
const O = DEFAULT_ID;
const ORG_PATH = `/instances/${I}/orgs/${O}`;
const FULL = 'token-all-instance';
const LEAST = 'token-least-privilege';
const BOUNDED = 'token-bounded-read';
const ORG_READ = 'token-org-read';
const LEAST_SCOPES = [
  'instanceOrgMembers.get', 'instanceOrgInvites.get', 'instanceOrgInvites.post',
  'instanceOrgInvite.get', 'instanceOrgInvite.delete', 'instanceOrgInvite.resendInvite',
];
const SEED = {
  tokens: [
    { token: FULL, scopes: ['all.Instance'] },
    { token: LEAST, scopes: LEAST_SCOPES },
    { token: BOUNDED, scopes: ['all.Instance.bounded'] },
    { token: ORG_READ, scopes: ['instanceOrg.get'] },
  ],
  instances: [{
    id: I,
    orgs: [{
      id: O,
      memberLimit: 10,
      invites: [{ email: 'ann+new@example.com', role: 'view' as const, inviteDate: '-1h' }, { email: 'bo@example.com', role: 'edit' as const, inviteDate: '-2h' }],
      members: [{ email: 'cy@example.com', role: 'admin' as const }, { email: 'dee@example.com', role: 'view' as const }],
    }],
  }],
};
const DEFAULT_QUERY = { _actions: false, _links: true, _embedded: true };

/** A request built as losant-rest-js's generated actions build one (GET without a body, others `{}` by default). */
function action(method: LosantRequest['method'], path: string, fields: { query?: Record<string, unknown>; data?: unknown } = {}): LosantRequest {
  const req: LosantRequest = { method, url: `${ORG_PATH}${path}`, headers: {}, params: { ...DEFAULT_QUERY, ...fields.query } };
  if (method !== 'GET') req.data = fields.data ?? {};
  return req;
}

async function rejection(p: Promise<unknown>): Promise<LosantRestError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof Error)) throw new Error('expected the client to reject');
  return err as LosantRestError;
}

let emu: RunningEmulator;
let sent: Sent[];
let interceptor: number;
const client = (accessToken: string, extra: Partial<LosantClientOptions> = {}): LosantRestClient =>
  losantRest.createClient({ url: emu.url, accessToken, ...extra });

beforeEach(async () => {
  sent = [];
  const record = (r: AxiosAnswer | undefined): void => {
    if (r?.request) sent.push({ method: r.request.method, path: r.request.path, headers: r.request.getHeaders(), body: r.config?.data });
  };
  interceptor = axios.interceptors.response.use(
    (r) => { record(r); return r; },
    (e) => { record(e.response); return Promise.reject(e); },
  );
  emu = await startEmulator({ port: 0, host: '127.0.0.1', seed: SEED });
});
afterEach(async () => {
  axios.interceptors.response.eject(interceptor);
  await emu.close();
});

const last = (): Sent => {
  const s = sent.at(-1);
  if (!s) throw new Error('no request was recorded');
  return s;
};
type Item = { id: string; email: string; role: string };
const emailsOf = (collection: unknown): string[] => (collection as { items: Item[] }).items.map((i) => i.email);

describe('Function: losant-rest instanceOrgMembers.get against the emulator', () => {
  it('returns the filtered members collection for the exact query and headers the official client sends', async () => {
    // Arrange
    const api = client(FULL);

    // Act
    const members = await api.instanceOrgMembers.get({ instanceId: I, orgId: O, sortField: 'email', sortDirection: 'asc', filterField: 'email', filter: 'c*' });

    // Assess
    const wire = last();
    expect(wire.method).toBe('GET');
    expect(wire.path).toBe(`${ORG_PATH}/members?_actions=false&_links=true&_embedded=true&sortField=email&sortDirection=asc&filterField=email&filter=c%2A`);
    expect(wire.headers).toMatchObject({ accept: 'application/json', 'accept-version': '^1.20.1', authorization: `Bearer ${FULL}` });
    expectValid('instanceOrgMembers.json', members);
    expect(members).toMatchObject({ count: 1, filter: 'c*', filterField: 'email', _type: 'instanceOrgMembers' });
    expect(emailsOf(members)).toEqual(['cy@example.com']);
  });

  it('returns every member, sorted desc, with a `.bounded` read token, Accept-Version ^1.30 and a losantdomain header', async () => {
    // Arrange
    const api = client(BOUNDED, { acceptVersion: '^1.30' });

    // Act
    const members = await api.instanceOrgMembers.get({ instanceId: I, orgId: O, sortDirection: 'desc', losantdomain: 'example.com' });

    // Assess
    expect(last().headers).toMatchObject({ 'accept-version': '^1.30', losantdomain: 'example.com' });
    expectValid('instanceOrgMembers.json', members);
    expect(emailsOf(members)).toEqual(['dee@example.com', 'cy@example.com']);
  });

  it('returns a 400 the client surfaces as Losant does (message, type, statusCode) for a sortField the route does not accept', async () => {
    // Act
    const err = await rejection(client(FULL).instanceOrgMembers.get({ instanceId: I, orgId: O, sortField: 'inviteDate' }));

    // Assess
    expect(err).toMatchObject({ statusCode: 400, type: 'Validation', message: 'sortField must be one of email, role' });
  });
});

describe('Function: losant-rest instanceOrg.get, instanceOrgMembers.post and instanceOrgMember against the emulator', () => {
  it('returns the org with its member limit for instanceOrg.get, on the query the official client sends', async () => {
    // Act
    const org = (await client(ORG_READ).instanceOrg.get({ instanceId: I, orgId: O })) as Record<string, unknown>;

    // Assess
    expect(last()).toMatchObject({ method: 'GET', path: `${ORG_PATH}?_actions=false&_links=true&_embedded=true` });
    expect(org).toMatchObject({ id: O, limits: { member: 10 }, summary: { memberCount: 2, pendingInviteCount: 2 }, _type: 'instanceOrg' });
  });

  it('adds, reads, patches and deletes one member through the official actions (DELETE with its `{}` body)', async () => {
    // Arrange
    const api = client(FULL);

    // Act
    const added = (await api.instanceOrgMembers.post({ instanceId: I, orgId: O, member: { email: 'gil@example.com', role: 'view' } })) as Item & { userId: string };
    const one = await client(BOUNDED, { acceptVersion: '^1.30' }).instanceOrgMember.get({ instanceId: I, orgId: O, userId: added.userId });
    const patched = await api.instanceOrgMember.patch({ instanceId: I, orgId: O, userId: added.userId, member: { role: 'edit' } });
    const deleted = await api.instanceOrgMember.delete({ instanceId: I, orgId: O, userId: added.userId });
    const deletedWire = last();

    // Assess
    expect(added).toMatchObject({ email: 'gil@example.com', role: 'view', _type: 'instanceOrgMember' });
    expect(one).toMatchObject({ email: 'gil@example.com', userId: added.userId });
    expect(patched).toMatchObject({ email: 'gil@example.com', role: 'edit' });
    expect(deletedWire).toMatchObject({ method: 'DELETE', path: `${ORG_PATH}/members/${added.userId}?_actions=false&_links=true&_embedded=true`, body: '{}' });
    expectValid('success.json', deleted);
    expect(emu.members(I, O).map((m) => m.email)).toEqual(['cy@example.com', 'dee@example.com']);
  });
});

describe('Function: losant-rest client.request on the invite routes against the emulator', () => {
  it('returns schema-valid answers on every invite route with the least-privilege token, for the client\'s query, headers and `{}` bodies', async () => {
    // Arrange
    const api = client(LEAST);

    // Act
    const filtered = await api.request(action('GET', '/invites', { query: { sortField: 'email', sortDirection: 'asc', filterField: 'email', filter: 'ann+*' } }));
    const filteredWire = last();
    const posted = await api.request(action('POST', '/invites', { data: { email: 'eve@example.com', role: 'view' } }));
    const postedWire = last();
    const eve = (posted as { items: Item[] }).items.find((i) => i.email === 'eve@example.com');
    if (!eve) throw new Error('the POST answer does not list the new invite');
    const one = await api.request(action('GET', `/invites/${eve.id}`));
    const resent = await api.request(action('POST', `/invites/${eve.id}`, { data: { role: 'edit' } }));
    const resentId = (resent as Item).id;
    const resentAsIs = await api.request(action('POST', `/invites/${resentId}`));
    const resentAsIsWire = last();
    const deleted = await api.request(action('DELETE', `/invites/${(resentAsIs as Item).id}`));
    const deletedWire = last();

    // Assess
    expect(filteredWire.path).toBe(`${ORG_PATH}/invites?_actions=false&_links=true&_embedded=true&sortField=email&sortDirection=asc&filterField=email&filter=ann%2B%2A`);
    expectValid('orgInviteCollection.json', filtered);
    expect(emailsOf(filtered)).toEqual(['ann+new@example.com']);
    expect(postedWire.headers).toMatchObject({ 'content-type': 'application/json', 'accept-version': '^1.20.1' });
    expectValid('orgInviteCollection.json', posted);
    expectValid('orgInvite.json', one);
    expect(one).toMatchObject({ id: eve.id, email: 'eve@example.com', role: 'view', _type: 'orgInvite' });
    expectValid('orgInvite.json', resent);
    expect(resent).toMatchObject({ email: 'eve@example.com', role: 'edit' });
    expect(resentAsIsWire.body).toBe('{}');
    expectValid('orgInvite.json', resentAsIs);
    expect(resentAsIs).toMatchObject({ email: 'eve@example.com', role: 'edit' });
    expect(deletedWire).toMatchObject({ method: 'DELETE', path: `${ORG_PATH}/invites/${(resentAsIs as Item).id}?_actions=false&_links=true&_embedded=true`, body: '{}' });
    expect(deletedWire.headers).toMatchObject({ 'content-type': 'application/json' });
    expectValid('success.json', deleted);
    expect(emu.invites(I, O).map((i) => i.email).sort()).toEqual(['ann+new@example.com', 'bo@example.com']);
  });

  it('returns 404 with an error.json body for an invite the DELETE already removed', async () => {
    // Arrange
    const api = client(FULL);
    const [bo] = emu.invites(I, O).filter((i) => i.email === 'bo@example.com');
    if (!bo) throw new Error('seed has no invite for bo@example.com');
    await api.request(action('DELETE', `/invites/${bo.id}`));

    // Act
    const err = await rejection(api.request(action('GET', `/invites/${bo.id}`)));

    // Assess
    expect(err.statusCode).toBe(404);
    expect(err.type).toBe('NotFound');
    expectValid('error.json', { type: err.type, message: err.message });
  });

  it('returns 403 naming the needed scopes when the read-only token POSTs an invite, and nothing is created', async () => {
    // Act
    const err = await rejection(client(BOUNDED).request(action('POST', '/invites', { data: { email: 'fay@example.com', role: 'view' } })));

    // Assess
    expect(err).toMatchObject({ statusCode: 403, type: 'Forbidden' });
    expect(err.message).toContain('instanceOrgInvites.post');
    expect(emu.invites(I, O).map((i) => i.email)).not.toContain('fay@example.com');
  });
});
