// tests --> LosantClient over an undici MockAgent (no network): mapping, retries, deadlines, recovery, secrecy
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockAgent, type Interceptable } from 'undici';
import { LosantClient, type LosantClientOptions } from '../../functions/losant/client.ts';
import { queryString } from '../../functions/losant/routes.ts';
import { parseRetryAfter, type RequestEvent } from '../../functions/losant/transport.ts';
import { normalizeEmailForCompare } from '../../functions/losant/email.ts';
import { LosantApiError } from '../../functions/losant/errors.ts';
import type { RateGovernor } from '../../functions/losant/governor.ts';
import { ApiError } from '../../functions/sync/errors.ts';
import type { Log } from '../../functions/sync/ports.ts';

const ORIGIN = 'https://api.losant.test';
const TOKEN = 'tok-3f9a1c7e55d2-secret';
const ID = '575ec8687ae143cd83dc4a97';
const INVITE_ID = '5a0b3c4d5e6f708192a3b4c5';
const TARGET = { instanceId: ID, orgId: ID };
const INVITES = `/instances/${ID}/orgs/${ID}/invites`;
const MEMBERS = `/instances/${ID}/orgs/${ID}/members`;
const JSON_HEADERS = { headers: { 'content-type': 'application/json' } };

function invite(email: string, extra: Record<string, unknown> = {}) {
  return { id: INVITE_ID, email, role: 'view', inviteDate: '2024-05-01T10:00:00.000Z', ttl: 1000, hasExpired: false, ...extra };
}
function collection(items: unknown[]) {
  return { items, instanceId: ID, orgId: ID, count: items.length, sortField: 'inviteDate', sortDirection: 'desc' };
}

/** A Log that keeps every line. */
function memoryLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(extra ?? {})}`);
  };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

/** Lets every request through at once (pacing is tested on its own). */
const openGovernor: RateGovernor = { acquire: async () => {}, onResponse: () => {} };

let agent: MockAgent;
let pool: Interceptable;
let t: number;
let sleeps: number[];
let events: RequestEvent[];
let log: ReturnType<typeof memoryLog>;

function client(opts: Partial<LosantClientOptions> = {}): LosantClient {
  return new LosantClient({
    baseUrl: ORIGIN,
    token: TOKEN,
    dispatcher: agent,
    governor: openGovernor,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    random: () => 0.5,
    log,
    onRequest: (e) => events.push(e),
    ...opts,
  });
}

async function failure(p: Promise<unknown>): Promise<LosantApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LosantApiError);
  expect(err).toBeInstanceOf(ApiError);
  return err as LosantApiError;
}

beforeEach(() => {
  agent = new MockAgent({ connections: 1 });
  agent.disableNetConnect();
  pool = agent.get(ORIGIN);
  t = 1_700_000_000_000;
  sleeps = [];
  events = [];
  log = memoryLog();
});

afterEach(async () => {
  agent.assertNoPendingInterceptors();
  await agent.close();
});

describe('Function: queryString', () => {
  it('returns the four parameters in order, percent-encoding + @ and space but keeping *', () => {
    // Act
    const q = queryString({ filter: 'a+b* c@x.com', filterField: 'email', sortDirection: 'asc', sortField: 'email' });

    // Assert
    expect(q).toBe('?sortField=email&sortDirection=asc&filterField=email&filter=a%2Bb*%20c%40x.com');
    expect(queryString({})).toBe('');
  });
});

describe('Function: parseRetryAfter', () => {
  it('returns ms for delta-seconds and for an HTTP-date, undefined for garbage', () => {
    // Arrange
    const now = Date.UTC(2024, 4, 1, 10, 0, 0);

    // Act / Assert
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(new Date(now + 7000).toUTCString(), now)).toBe(7000);
    expect(parseRetryAfter(new Date(now - 7000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('Function: normalizeEmailForCompare', () => {
  it('returns trimmed, lower-cased addresses with an ASCII domain', () => {
    expect(normalizeEmailForCompare('  Ann.Lee+HR@Bücher.DE ')).toBe('ann.lee+hr@xn--bcher-kva.de');
    expect(normalizeEmailForCompare('A*B@X.COM')).toBe('a*b@x.com');
    expect(normalizeEmailForCompare('"Odd Name"@Example.com')).toBe('"odd name"@example.com');
  });
});

describe('Function: LosantClient.listInvites', () => {
  it('returns normalised invites and sends the query parameters exactly and the bearer token', async () => {
    // Arrange
    pool
      .intercept({
        path: `${INVITES}?sortField=email&sortDirection=asc&filterField=email&filter=a%2Bb*%40x.com`,
        method: 'GET',
        headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/json' },
      })
      .reply(200, collection([invite('Ann@Example.COM', { hasExpired: true, unknownExtra: 1 })]), JSON_HEADERS);

    // Act
    const list = await client().listInvites(TARGET, { sortField: 'email', sortDirection: 'asc', filterField: 'email', filter: 'a+b*@x.com' });

    // Assert
    expect(list).toEqual([{ id: INVITE_ID, email: 'ann@example.com', role: 'view', inviteDate: '2024-05-01T10:00:00.000Z', hasExpired: true, ttl: 1000 }]);
    expect(events).toEqual([{ method: 'GET', route: '/instances/:instanceId/orgs/:orgId/invites', status: 200, ms: expect.any(Number) }]);
  });

  it('returns invites from a base URL with a path prefix', async () => {
    // Arrange
    pool.intercept({ path: `/api${INVITES}`, method: 'GET' }).reply(200, collection([]), JSON_HEADERS);

    // Act
    const list = await client({ baseUrl: `${ORIGIN}/api/` }).listInvites(TARGET);

    // Assert
    expect(list).toEqual([]);
  });

  it.each([
    ['a role outside the enum', collection([invite('a@x.com', { role: 'owner' })])],
    ['an id that is not 24 hex', collection([invite('a@x.com', { id: 'nope' })])],
    ['an email the schema rejects', collection([invite('not-an-email')])],
    ['items that are not an array', { items: 'x' }],
    ['an invite without inviteDate', collection([{ id: INVITE_ID, email: 'a@x.com', role: 'view' }])],
  ])('returns invalidResponse for %s', async (_name, body) => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, body, JSON_HEADERS);

    // Act
    const err = await failure(client().listInvites(TARGET));

    // Assert
    expect(err.kind).toBe('invalidResponse');
    expect(sleeps).toEqual([]);
  });

  it('returns invalidResponse for an answer that is not JSON', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, '<html>oops</html>');

    // Act
    const err = await failure(client().listInvites(TARGET));

    // Assert
    expect(err.kind).toBe('invalidResponse');
    expect(err.status).toBe(200);
  });
});

describe('Function: LosantClient list answers that cannot be trusted', () => {
  it('returns invalidResponse for a body longer than maxAnswerBytes, without retrying', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, collection(Array.from({ length: 40 }, (_, i) => invite(`p${i}@x.com`))), JSON_HEADERS);

    // Act
    const err = await failure(client({ maxAnswerBytes: 1000 }).listPending(TARGET));

    // Assert
    expect(err.kind).toBe('invalidResponse');
    expect(err.message).toContain('maxAnswerBytes');
    expect(sleeps).toEqual([]);
  });

  it('returns the items of a filtered GET whatever its count says (count is checked on unfiltered GETs only)', async () => {
    // Arrange
    pool.intercept({ path: `${INVITES}?filterField=email&filter=a%40x.com`, method: 'GET' }).reply(200, { ...collection([invite('a@x.com')]), count: 7 }, JSON_HEADERS);
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, { ...collection([invite('a@x.com')]), count: 7 }, JSON_HEADERS);

    // Act
    const found = await client().findInvite(TARGET, 'a@x.com');
    const err = await failure(client().listPending(TARGET));

    // Assert
    expect(found?.email).toBe('a@x.com');
    expect(err.kind).toBe('invalidResponse');
    expect(err.message).toContain('count 7 but holds 1');
  });

  it('returns the invite by lookup when a POST answer is too long to read (created: never POSTed again)', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'POST' }).reply(201, collection(Array.from({ length: 40 }, (_, i) => invite(`p${i}@x.com`))), JSON_HEADERS);
    pool.intercept({ path: `${INVITES}?filterField=email&filter=ann%40x.com`, method: 'GET' }).reply(200, collection([invite('ann@x.com')]), JSON_HEADERS);

    // Act
    const result = await client({ maxAnswerBytes: 1000 }).createInvite(TARGET, { email: 'ann@x.com', role: 'view' });

    // Assert
    expect(result).toEqual({ recovered: false, invite: expect.objectContaining({ email: 'ann@x.com' }) });
    expect(events.map((e) => `${e.method} ${e.status}`)).toEqual(['POST 201', 'GET 200']);
  });
});

describe('Function: LosantClient.listMembers', () => {
  it('returns normalised members with their userId', async () => {
    // Arrange
    const items = [{ instanceId: ID, orgId: ID, userId: INVITE_ID, email: 'Bo@Example.com', role: 'edit', firstName: 'Bo' }];
    pool.intercept({ path: MEMBERS, method: 'GET' }).reply(200, { items, count: 1, sortField: 'email', sortDirection: 'asc' }, JSON_HEADERS);

    // Act
    const members = await client().listMembers(TARGET);

    // Assert
    expect(members).toEqual([{ email: 'bo@example.com', role: 'edit', userId: INVITE_ID }]);
  });

  it('returns members from an answer with _type, _links and properties newer than the published schema, at every level', async () => {
    // Arrange: the published instanceOrgMember.json says additionalProperties: false; the real API does not keep to it
    const links = { self: { href: `/instances/${ID}/orgs/${ID}/members/${INVITE_ID}` } };
    const items = [{ email: 'bo@example.com', role: 'edit', userId: INVITE_ID, _type: 'instanceOrgMember', _links: links, lastLogin: '2024-05-01T00:00:00.000Z' }];
    pool.intercept({ path: MEMBERS, method: 'GET' }).reply(200, { items, count: 1, _type: 'instanceOrgMembers', _links: links, _embedded: {} }, JSON_HEADERS);

    // Act
    const members = await client().listMembers(TARGET);

    // Assert
    expect(members).toEqual([{ email: 'bo@example.com', role: 'edit', userId: INVITE_ID }]);
  });

  it('returns invites whose nested applicationRoles carry unknown properties', async () => {
    // Arrange
    const roles = [{ resourceId: INVITE_ID, role: 'view', _links: { application: { href: `/applications/${INVITE_ID}` } } }];
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, { ...collection([invite('a@x.com', { applicationRoles: roles, _type: 'orgInvite' })]), _type: 'orgInvites' }, JSON_HEADERS);

    // Act
    const list = await client().listPending(TARGET);

    // Assert
    expect(list.map((i) => i.email)).toEqual(['a@x.com']);
  });
});

describe('Function: LosantClient status mapping', () => {
  it.each([
    [400, 'badRequest', 'Validation'],
    [401, 'unauthorized', 'Unauthorized'],
    [403, 'forbidden', 'Forbidden'],
    [404, 'notFound', 'NotFound'],
    [409, 'badRequest', 'Conflict'],
  ] as const)('returns %i as %s with the Losant type and message, without retrying', async (status, kind, type) => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(status, { type, message: `${type} happened` }, JSON_HEADERS);

    // Act
    const err = await failure(client().listInvites(TARGET));

    // Assert
    expect(err.kind).toBe(kind);
    expect(err.status).toBe(status);
    expect(err.apiType).toBe(type);
    expect(err.message).toContain(`${type} happened`);
    expect(err.attempts).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it.each([
    [503, 'server'],
    [500, 'server'],
    [429, 'throttled'],
  ] as const)('returns %i as %s once maxAttempts are used up', async (status, kind) => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(status, { type: 'Busy', message: 'try later' }, JSON_HEADERS).times(3);

    // Act
    const err = await failure(client({ retry: { maxAttempts: 3 } }).listInvites(TARGET));

    // Assert
    expect(err.kind).toBe(kind);
    expect(err.status).toBe(status);
    expect(err.attempts).toBe(3);
    expect(sleeps).toHaveLength(2);
  });

  it('returns the answer after 5xx and dropped connections were retried', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(503, { type: 'ServiceUnavailable', message: 'x' }, JSON_HEADERS);
    pool.intercept({ path: INVITES, method: 'GET' }).replyWithError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, collection([invite('a@x.com')]), JSON_HEADERS);

    // Act
    const list = await client().listInvites(TARGET);

    // Assert
    expect(list.map((i) => i.email)).toEqual(['a@x.com']);
    expect(sleeps).toHaveLength(2);
    expect(events.map((e) => e.status)).toEqual([503, 0, 200]);
  });

  it('returns network once connection errors outlive the attempts', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).times(2);

    // Act
    const err = await failure(client({ retry: { maxAttempts: 2 } }).listInvites(TARGET));

    // Assert
    expect(err.kind).toBe('network');
    expect(err.message).toContain('ECONNREFUSED');
  });
});

describe('Function: LosantClient backoff', () => {
  it('returns after sleeping random × min(maxDelay, base × 2^attempt) between attempts', async () => {
    // Arrange
    const draws = [0.25, 0.999, 0.5, 0.75];
    let i = 0;
    pool.intercept({ path: INVITES, method: 'GET' }).reply(502, {}, JSON_HEADERS).times(4);
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, collection([]), JSON_HEADERS);
    const api = client({ random: () => draws[i++] ?? 0, retry: { baseDelayMs: 1000, maxDelayMs: 3000 } });

    // Act
    await api.listInvites(TARGET);

    // Assert
    const caps = [1000, 2000, 3000, 3000];
    expect(sleeps).toEqual(caps.map((cap, k) => (draws[k] ?? 0) * cap));
    sleeps.forEach((s, k) => expect(s).toBeLessThanOrEqual(caps[k] ?? 0));
  });

  it('returns after waiting at least the Retry-After seconds of a 429', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(429, { type: 'TooManyRequests', message: 'slow down' }, { headers: { 'retry-after': '3' } });
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, collection([]), JSON_HEADERS);

    // Act
    await client().listInvites(TARGET);

    // Assert
    expect(sleeps).toEqual([3000]);
  });

  it('returns after waiting until the HTTP-date of a Retry-After', async () => {
    // Arrange
    t = Date.UTC(2024, 4, 1, 12, 0, 0);
    const until = new Date(t + 4000).toUTCString();
    pool.intercept({ path: INVITES, method: 'GET' }).reply(429, {}, { headers: { 'retry-after': until } });
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, collection([]), JSON_HEADERS);

    // Act
    await client().listInvites(TARGET);

    // Assert
    expect(sleeps).toEqual([4000]);
  });

  it('returns throttled at once when Retry-After is longer than maxRetryAfterMs', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(429, {}, { headers: { 'retry-after': '3600' } });

    // Act
    const err = await failure(client().listInvites(TARGET));

    // Assert
    expect(err.kind).toBe('throttled');
    expect(sleeps).toEqual([]);
  });
});

describe('Function: LosantClient deadline', () => {
  it('returns deadline without sleeping past it when the next backoff would end after it', async () => {
    // Arrange
    const deadline = t + 1000;
    pool.intercept({ path: INVITES, method: 'GET' }).reply(503, {}, JSON_HEADERS).times(2);
    const api = client({ random: () => 0.999, retry: { baseDelayMs: 400 } });

    // Act
    const err = await failure(api.listInvites(TARGET, undefined, { deadline }));

    // Assert: 399.6 + 799.2 would pass the deadline, so only the first wait happens
    expect(err.kind).toBe('deadline');
    expect(sleeps).toEqual([399.6]);
    expect(t).toBeLessThanOrEqual(deadline);
    expect(err.cause).toBeInstanceOf(LosantApiError);
  });

  it('returns deadline when a Retry-After reaches past the deadline', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(429, {}, { headers: { 'retry-after': '5' } });

    // Act
    const err = await failure(client().listInvites(TARGET, undefined, { deadline: t + 2000 }));

    // Assert
    expect(err.kind).toBe('deadline');
    expect(sleeps).toEqual([]);
  });

  it('returns deadline without any request when the deadline has passed', async () => {
    // Act
    const err = await failure(client().listInvites(TARGET, undefined, { deadline: t - 1 }));

    // Assert
    expect(err.kind).toBe('deadline');
    expect(events).toEqual([]);
  });

  it('returns deadline when the answer does not come within the time left (timeout capped by the deadline)', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, collection([]), JSON_HEADERS).delay(400);

    // Act
    const started = Date.now();
    const err = await failure(client({ requestTimeoutMs: 10_000 }).listInvites(TARGET, undefined, { deadline: t + 40 }));

    // Assert
    expect(err.kind).toBe('deadline');
    expect(Date.now() - started).toBeLessThan(350);
  });

  it('returns the answer after a request timeout was retried', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, collection([]), JSON_HEADERS).delay(400);
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, collection([invite('a@x.com')]), JSON_HEADERS);

    // Act
    const list = await client({ requestTimeoutMs: 40 }).listInvites(TARGET);

    // Assert
    expect(list).toHaveLength(1);
    expect(events.map((e) => e.status)).toEqual([0, 200]);
  });

  it('says a POST never left (notSent) when it waited for the rate limit until the deadline', async () => {
    // Arrange: the governor refuses to let it start before the deadline
    const refusing: RateGovernor = {
      acquire: async () => {
        throw new LosantApiError('deadline', 'rate limit pacing would delay the request past the deadline', { status: 429 });
      },
      onResponse: () => {},
    };

    // Act
    const err = await failure(client({ governor: refusing }).createInvite(TARGET, { email: 'a@x.com', role: 'view' }, { deadline: t + 1000 }));

    // Assert
    expect(err.kind).toBe('deadline');
    expect(err.notSent).toBe(true);
    expect(events).toEqual([]);
  });

  it('never says notSent for a POST that was sent, even when the lookup after it could not start', async () => {
    // Arrange: the POST is created but its answer does not list it; the lookup by email then meets the deadline before it starts
    let calls = 0;
    const once: RateGovernor = {
      acquire: async () => {
        calls += 1;
        if (calls > 1) throw new LosantApiError('deadline', 'rate limit pacing would delay the request past the deadline', { status: 429 });
      },
      onResponse: () => {},
    };
    pool.intercept({ path: INVITES, method: 'POST' }).reply(201, collection([invite('other@x.com')]), JSON_HEADERS);

    // Act
    const err = await failure(client({ governor: once }).createInvite(TARGET, { email: 'a@x.com', role: 'view' }, { deadline: t + 1000 }));

    // Assert
    expect(err.kind).toBe('deadline');
    expect(err.method).toBe('GET');
    expect(err.notSent).toBe(false);
    expect(events.map((e) => `${e.method} ${e.status}`)).toEqual(['POST 201']);
  });

  it('returns deadline when the caller aborts', async () => {
    // Arrange
    const controller = new AbortController();
    controller.abort(new Error('stop'));

    // Act
    const err = await failure(client().listInvites(TARGET, undefined, { signal: controller.signal }));

    // Assert
    expect(err.kind).toBe('deadline');
    expect(events).toEqual([]);
  });
});

describe('Function: LosantClient token', () => {
  it('returns the answer after one 401 made it fetch a fresh token', async () => {
    // Arrange
    const calls: Array<{ refresh?: boolean } | undefined> = [];
    const token = async (opts?: { refresh?: boolean }) => {
      calls.push(opts);
      return opts?.refresh ? 'fresh-token-0002' : 'stale-token-0001';
    };
    pool.intercept({ path: INVITES, method: 'GET', headers: { authorization: 'Bearer stale-token-0001' } }).reply(401, { type: 'Unauthorized', message: 'expired' }, JSON_HEADERS);
    pool.intercept({ path: INVITES, method: 'GET', headers: { authorization: 'Bearer fresh-token-0002' } }).reply(200, collection([]), JSON_HEADERS);
    pool.intercept({ path: MEMBERS, method: 'GET', headers: { authorization: 'Bearer fresh-token-0002' } }).reply(200, { items: [] }, JSON_HEADERS);
    const api = client({ token });

    // Act
    await api.listInvites(TARGET);
    await api.listMembers(TARGET);

    // Assert
    expect(calls).toEqual([undefined, { refresh: true }]);
    expect(sleeps).toEqual([]);
  });

  it('returns unauthorized when the fresh token is refused too, refreshing only once', async () => {
    // Arrange
    let calls = 0;
    const token = async () => `token-${++calls}`;
    pool.intercept({ path: INVITES, method: 'GET' }).reply(401, { type: 'Unauthorized', message: 'no' }, JSON_HEADERS).times(2);

    // Act
    const err = await failure(client({ token }).listInvites(TARGET));

    // Assert
    expect(err.kind).toBe('unauthorized');
    expect(calls).toBe(2);
  });

  it('returns unauthorized at once for a fixed token', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(401, { type: 'Unauthorized', message: 'no' }, JSON_HEADERS);

    // Act
    const err = await failure(client().listInvites(TARGET));

    // Assert
    expect(err.kind).toBe('unauthorized');
    expect(events).toHaveLength(1);
  });

  it('returns errors and logs that never contain the token and mask emails', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(503, { type: 'Down', message: `bad Bearer ${TOKEN}` }, JSON_HEADERS);
    pool.intercept({ path: INVITES, method: 'GET' }).reply(400, { type: 'Validation', message: `token ${TOKEN} cannot invite jane.doe@example.com` }, JSON_HEADERS);
    pool.intercept({ path: INVITES, method: 'GET' }).reply(401, { type: `Unauthorized ${TOKEN}`, message: `Bearer ${TOKEN}` }, JSON_HEADERS);

    // Act
    const api = client();
    const first = await failure(api.listInvites(TARGET));
    const second = await failure(api.listInvites(TARGET));

    // Assert
    const texts = [first.message, second.message, second.apiType ?? '', ...log.lines].join('\n');
    expect(first.kind).toBe('badRequest');
    expect(second.kind).toBe('unauthorized');
    expect(texts).not.toContain(TOKEN);
    expect(texts).not.toContain('jane.doe@example.com');
    expect(first.message).toContain('j***@e***.com');
    expect(log.lines.length).toBeGreaterThan(0);
  });
});

describe('Function: LosantClient.createInvite', () => {
  it('returns the new invite found by exact email (newest of several), not by position', async () => {
    // Arrange
    const items = [
      invite('ann.b@x.com', { id: 'aaaaaaaaaaaaaaaaaaaaaaaa', inviteDate: '2024-05-03T00:00:00.000Z' }),
      invite('Ann@X.com', { id: 'bbbbbbbbbbbbbbbbbbbbbbbb', inviteDate: '2024-05-01T00:00:00.000Z', role: 'edit' }),
      invite('ann@x.com', { id: 'cccccccccccccccccccccccc', inviteDate: '2024-05-02T00:00:00.000Z', role: 'edit' }),
    ];
    pool.intercept({ path: INVITES, method: 'POST', body: JSON.stringify({ email: 'ann@x.com', role: 'edit' }) }).reply(201, collection(items), JSON_HEADERS);

    // Act
    const result = await client().createInvite(TARGET, { email: 'ann@x.com', role: 'edit' });

    // Assert
    expect(result.recovered).toBe(false);
    expect(result.invite.id).toBe('cccccccccccccccccccccccc');
  });

  it('returns invalidResponse when the created invite itself breaks the schema, and checks only that email\'s items', async () => {
    // Arrange: other people's items are not this POST's business; the new invite's is
    const others = [{ id: 'not-hex', email: 'someone@x.com', role: 'owner' }];
    pool.intercept({ path: INVITES, method: 'POST' }).reply(201, collection([...others, invite('ok@x.com', { id: 'dddddddddddddddddddddddd' })]), JSON_HEADERS);
    pool.intercept({ path: INVITES, method: 'POST' }).reply(201, collection([invite('bad@x.com', { role: 'owner' })]), JSON_HEADERS);

    // Act
    const ok = await client().createInvite(TARGET, { email: 'ok@x.com', role: 'view' });
    const bad = await client()
      .createInvite(TARGET, { email: 'bad@x.com', role: 'view' })
      .catch((e: unknown) => e);

    // Assert
    expect(ok.invite.id).toBe('dddddddddddddddddddddddd');
    expect(bad).toBeInstanceOf(ApiError);
    expect((bad as ApiError).kind).toBe('invalidResponse');
  });

  it('returns recovered when a 5xx POST turns out to have created the invite', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'POST' }).reply(502, {}, JSON_HEADERS);
    pool.intercept({ path: `${INVITES}?filterField=email&filter=ann%40x.com`, method: 'GET' }).reply(200, collection([invite('ANN@x.com')]), JSON_HEADERS);

    // Act
    const result = await client().createInvite(TARGET, { email: 'ann@x.com', role: 'view' });

    // Assert
    expect(result).toEqual({ recovered: true, invite: expect.objectContaining({ id: INVITE_ID, email: 'ann@x.com' }) });
    expect(events.map((e) => `${e.method} ${e.status}`)).toEqual(['POST 502', 'GET 200']);
  });

  it('returns ambiguous without a second POST when the lookup after a dropped answer finds only a glob over-match', async () => {
    // Arrange: `a*b@x.com` as a glob also matches `a.b@x.com`, which is someone else
    pool.intercept({ path: INVITES, method: 'POST' }).replyWithError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
    pool.intercept({ path: `${INVITES}?filterField=email&filter=a*b%40x.com`, method: 'GET' }).reply(200, collection([invite('a.b@x.com'), invite('xa*b@x.com')]), JSON_HEADERS);

    // Act
    const err = await failure(client().createInvite(TARGET, { email: 'a*b@x.com', role: 'view' }));

    // Assert
    expect(err.kind).toBe('ambiguous');
    expect(events.map((e) => `${e.method} ${e.status}`)).toEqual(['POST 0', 'GET 200']);
  });

  it('returns the invite after a 429 and a refused connection were retried without a lookup', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'POST' }).reply(429, {}, { headers: { 'retry-after': '1' } });
    pool.intercept({ path: INVITES, method: 'POST' }).replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    pool.intercept({ path: INVITES, method: 'POST' }).reply(201, collection([invite('ann@x.com')]), JSON_HEADERS);

    // Act
    const result = await client().createInvite(TARGET, { email: 'ann@x.com', role: 'view' });

    // Assert
    expect(result.recovered).toBe(false);
    expect(events.map((e) => e.method)).toEqual(['POST', 'POST', 'POST']);
    expect(sleeps[0]).toBeGreaterThanOrEqual(1000);
  });

  it('returns badRequest for a refused POST without retrying or looking up', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'POST' }).reply(400, { type: 'Validation', message: 'role is invalid' }, JSON_HEADERS);

    // Act
    const err = await failure(client().createInvite(TARGET, { email: 'ann@x.com', role: 'view' }));

    // Assert
    expect(err.kind).toBe('badRequest');
    expect(events).toHaveLength(1);
  });

  it('returns badRequest without a request for an address the published schema rejects', async () => {
    // Act
    const err = await failure(client().createInvite(TARGET, { email: 'not an email', role: 'view' }));

    // Assert
    expect(err.kind).toBe('badRequest');
    expect(events).toEqual([]);
  });

  it('returns ambiguous after a 500 whose lookup finds nothing, without POSTing again', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'POST' }).reply(500, {}, JSON_HEADERS);
    pool.intercept({ path: `${INVITES}?filterField=email&filter=ann%40x.com`, method: 'GET' }).reply(200, collection([]), JSON_HEADERS);

    // Act
    const err = await failure(client({ retry: { maxAttempts: 2 } }).createInvite(TARGET, { email: 'ann@x.com', role: 'view' }));

    // Assert
    expect(err.kind).toBe('ambiguous');
    expect(events.map((e) => e.method)).toEqual(['POST', 'GET']);
  });

  it('returns deadline when there is no time left to resolve an ambiguous POST', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'POST' }).reply(503, {}, JSON_HEADERS);

    // Act
    const err = await failure(client({ random: () => 0.99 }).createInvite(TARGET, { email: 'ann@x.com', role: 'view' }, { deadline: t + 50 }));

    // Assert
    expect(err.kind).toBe('deadline');
    expect(events).toHaveLength(1);
  });
});

describe('Function: LosantClient single invite', () => {
  it('returns one invite by id', async () => {
    // Arrange
    pool.intercept({ path: `${INVITES}/${INVITE_ID}`, method: 'GET' }).reply(200, invite('Zed@X.com'), JSON_HEADERS);

    // Act
    const got = await client().getInvite(TARGET, INVITE_ID);

    // Assert
    expect(got).toMatchObject({ id: INVITE_ID, email: 'zed@x.com' });
  });

  it('returns the resent invite, retrying a 503 like a GET', async () => {
    // Arrange
    pool.intercept({ path: `${INVITES}/${INVITE_ID}`, method: 'POST' }).reply(503, {}, JSON_HEADERS);
    pool
      .intercept({ path: `${INVITES}/${INVITE_ID}`, method: 'POST', body: JSON.stringify({ role: 'admin' }) })
      .reply(201, invite('zed@x.com', { role: 'admin', inviteDate: '2024-06-01T00:00:00.000Z' }), JSON_HEADERS);

    // Act
    const got = await client().resend(TARGET, INVITE_ID, { role: 'admin' });

    // Assert
    expect(got).toMatchObject({ role: 'admin', inviteDate: '2024-06-01T00:00:00.000Z' });
    expect(events.map((e) => `${e.method} ${e.route} ${e.status}`)).toEqual([
      'POST /instances/:instanceId/orgs/:orgId/invites/:inviteId 503',
      'POST /instances/:instanceId/orgs/:orgId/invites/:inviteId 201',
    ]);
  });

  it('returns after revoking, and treats a 404 after an unanswered DELETE as done', async () => {
    // Arrange
    pool.intercept({ path: `${INVITES}/${INVITE_ID}`, method: 'DELETE' }).reply(200, { success: true }, JSON_HEADERS);
    pool.intercept({ path: `${INVITES}/${INVITE_ID}`, method: 'DELETE' }).reply(504, {}, JSON_HEADERS);
    pool.intercept({ path: `${INVITES}/${INVITE_ID}`, method: 'DELETE' }).reply(404, { type: 'NotFound', message: 'Invite was not found' }, JSON_HEADERS);
    const api = client();

    // Act
    await api.revoke(TARGET, INVITE_ID);
    await api.revoke(TARGET, INVITE_ID);

    // Assert
    expect(events.map((e) => e.status)).toEqual([200, 504, 404]);
  });

  it('returns notFound for a DELETE of an unknown invite', async () => {
    // Arrange
    pool.intercept({ path: `${INVITES}/${INVITE_ID}`, method: 'DELETE' }).reply(404, { type: 'NotFound', message: 'Invite was not found' }, JSON_HEADERS);

    // Act
    const err = await failure(client().revoke(TARGET, INVITE_ID));

    // Assert
    expect(err.kind).toBe('notFound');
    expect(err.apiType).toBe('NotFound');
  });
});

describe('Function: LosantClient with the default governor', () => {
  it('returns after pausing every send until the Retry-After of a 429 has passed', async () => {
    // Arrange
    pool.intercept({ path: INVITES, method: 'GET' }).reply(200, collection([]), JSON_HEADERS).times(2);
    pool.intercept({ path: INVITES, method: 'GET' }).reply(429, {}, { headers: { 'retry-after': '2' } });
    pool.intercept({ path: MEMBERS, method: 'GET' }).reply(200, { items: [] }, JSON_HEADERS);
    const api = new LosantClient({
      baseUrl: ORIGIN,
      token: TOKEN,
      dispatcher: agent,
      now: () => t,
      sleep: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
      random: () => 0,
    });
    await api.listInvites(TARGET);
    await api.listInvites(TARGET);
    const start = t;

    // Act
    const err = await failure(api.listInvites(TARGET, undefined, { deadline: t + 1000 }));
    await api.listMembers(TARGET);

    // Assert
    expect(err.kind).toBe('deadline');
    expect(t - start).toBeGreaterThanOrEqual(2000);
  });
});

describe('Function: LosantClient.getOrg', () => {
  const ORG_PATH = `/instances/${ID}/orgs/${ID}`;

  it.each([
    ['limits.member', { id: ID, name: 'Acme', limits: { member: 25, device: 100 }, summary: { memberCount: 3, pendingInviteCount: 2 } }, { memberLimit: 25 }],
    ['_type, _links and unknown fields at every level', { id: ID, _type: 'instanceOrg', _links: { self: { href: ORG_PATH } }, limits: { member: 0, _x: 1 }, summary: { memberCount: 0, newCount: 4 }, iotConfig: {} }, { memberLimit: 0 }],
    ['no limits.member (no limit)', { id: ID, limits: {} }, {}],
    ['limits.member null (no limit)', { id: ID, limits: { member: null } }, {}],
    ['no limits at all', { id: ID, name: 'Acme' }, {}],
  ])('returns the member limit from an answer with %s', async (_name, body, expected) => {
    // Arrange
    pool.intercept({ path: ORG_PATH, method: 'GET' }).reply(200, body, JSON_HEADERS);

    // Act
    const org = await client().getOrg(TARGET);

    // Assert
    expect(org).toEqual(expected);
  });

  it.each([
    ['a negative limit', { limits: { member: -1 } }],
    ['a limit that is a string', { limits: { member: '25' } }],
    ['limits that are a list', { limits: [25] }],
  ])('returns invalidResponse for %s', async (_name, body) => {
    // Arrange
    pool.intercept({ path: ORG_PATH, method: 'GET' }).reply(200, body, JSON_HEADERS);

    // Act
    const err = (await client().getOrg(TARGET).catch((e: unknown) => e)) as ApiError;

    // Assert
    expect(err).toBeInstanceOf(ApiError);
    expect(err.kind).toBe('invalidResponse');
  });

  it('returns forbidden naming the scope instanceOrg.get for a 403, without retrying', async () => {
    // Arrange
    pool.intercept({ path: ORG_PATH, method: 'GET' }).reply(403, { type: 'Forbidden', message: 'no' }, JSON_HEADERS);

    // Act
    const err = (await client().getOrg(TARGET).catch((e: unknown) => e)) as ApiError;

    // Assert
    expect(err.kind).toBe('forbidden');
    expect(err.scope).toBe('instanceOrg.get');
    expect(events).toHaveLength(1);
  });
});
