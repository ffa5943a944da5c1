// HTTP client --> emulator server (node:http) --> auth, rate limit, faults, contract checks --> state
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomInt } from 'node:crypto';
import {
  ROLES, ROUTE, SCOPES, checkInvitePost, checkMemberPatch, checkMemberPost, checkRoleInfo, isSchemaEmail, parseListQuery,
  type InviteSortField, type ListQuery, type Role,
} from './contract.ts';
import { TokenBucketLimiter, mulberry32 } from './faults.ts';
import { invitesBody, withLinks } from './hal.ts';
import { parseSeed, type EmulatorSeed } from './seed.ts';
import { EmulatorConflictError, EmulatorNotFoundError, EmulatorState, EmulatorStateError, type AnswerBody, type EmulatorInvite, type ResourceRole } from './state.ts';

export interface EmulatorOptions {
  /** 0 = a free port (the default) */
  port?: number;
  /** default '127.0.0.1' */
  host?: string;
  /** default: instance and org 575ec8687ae143cd83dc4a97, token `emulator-token` with `all.Instance` */
  seed?: EmulatorSeed;
  /** delay of every API answer (after its effect), ms; default 0 */
  latencyMs?: number;
  /** a POST's effect and its answer both wait this long, ms (a client that times out first sees an ambiguous failure); default 0 */
  postDelayMs?: number;
  /** share of API requests answered 503 before any effect, 0..1; default 0 */
  errorRate?: number;
  /** share of mutating requests (POST/DELETE) that take effect and then lose their answer, 0..1; default 0 */
  lostResponseRate?: number;
  /** seed of the fault PRNG (0..2^32-1): the same seed and requests give the same faults; default random */
  faultSeed?: number;
  /** requests per second per token (token bucket, capacity = rate); 0 or undefined = no limit */
  rateLimit?: number;
  /** clock (epoch ms) for invite dates, expiry and the rate limiter; default Date.now */
  now?: () => number;
  /** answer without the `_type` and `_links` Losant adds to collections and items; default false */
  plainAnswers?: boolean;
}

export type EmulatorFaults = Partial<Pick<EmulatorOptions, 'latencyMs' | 'errorRate' | 'lostResponseRate' | 'rateLimit'>>;

export interface EmulatorStats {
  /** answers per method, route template and status; a lost answer counts with status 0 */
  requests: { method: string; route: string; status: number; count: number }[];
  /** POSTs that created a second unexpired pending invite for an email (case-insensitive) */
  duplicateInvites: number;
}

export interface RunningEmulator {
  /** http://host:port, no trailing slash */
  url: string;
  host: string;
  port: number;
  /** the seed of the fault PRNG in use (pass it back as `faultSeed` to replay) */
  faultSeed: number;
  close(): Promise<void>;
  stats(): EmulatorStats;
  /** zeroes the counters; the state stays */
  reset(): void;
  setFaults(f: EmulatorFaults): void;
  /** pending invites as GET answers them (inviteDate desc) */
  invites(instanceId: string, orgId: string): EmulatorInvite[];
  /** members, email asc */
  members(instanceId: string, orgId: string): { email: string; role: string; userId: string }[];
  /** the person accepts: their invites leave the list and they become a member */
  acceptInvite(instanceId: string, orgId: string, email: string): void;
  removeMember(instanceId: string, orgId: string, email: string): void;
  addInvite(instanceId: string, orgId: string, inv: { email: string; role: string; inviteDate?: string; hasExpired?: boolean }): EmulatorInvite;
  /** as an admin would by hand: every pending invite of that email goes */
  revokeInviteByEmail(instanceId: string, orgId: string, email: string): void;
  /** sets the org's `limits.member` (undefined: no limit) */
  setMemberLimit(instanceId: string, orgId: string, limit: number | undefined): void;
  /** TCP connections the server accepted since it started (`opened`), open now, and the most open at once */
  connections(): { opened: number; open: number; peak: number };
}

/** Options that make no sense (a rate outside 0..1, a negative latency, …). */
export class EmulatorOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorOptionsError';
  }
}

/** The emulator could not listen (port taken, bad host). */
export class EmulatorStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmulatorStartError';
  }
}

/** Biggest request body read; larger ones get 413. */
const MAX_BODY_BYTES = 1024 * 1024;
const INVITE_DEFAULTS = { sortField: 'inviteDate', sortDirection: 'desc' } as const;
const MEMBER_DEFAULTS = { sortField: 'email', sortDirection: 'asc' } as const;
const INVITE_SORT_FIELDS: readonly InviteSortField[] = ['email', 'role', 'inviteDate'];
const MEMBER_SORT_FIELDS = ['email', 'role'] as const;

interface Outcome {
  status: number;
  body: unknown;
  /** the body already serialized (an invite collection): written as is, `_links` included unless plainAnswers; released once sent or dropped */
  text?: AnswerBody;
  headers?: Record<string, string>;
  /** take effect, then destroy the socket instead of answering */
  lose?: boolean;
}

interface RouteMatch {
  route: (typeof ROUTE)[keyof typeof ROUTE];
  instanceId: string;
  orgId: string;
  inviteId?: string;
  /** the members/{userId} route */
  userId?: string;
}

const SEGMENT = '([^/]+)';
const PATTERNS: [RegExp, RouteMatch['route']][] = [
  [new RegExp(`^/instances/${SEGMENT}/orgs/${SEGMENT}/invites/?$`), ROUTE.invites],
  [new RegExp(`^/instances/${SEGMENT}/orgs/${SEGMENT}/invites/${SEGMENT}/?$`), ROUTE.invite],
  [new RegExp(`^/instances/${SEGMENT}/orgs/${SEGMENT}/members/?$`), ROUTE.members],
  [new RegExp(`^/instances/${SEGMENT}/orgs/${SEGMENT}/members/${SEGMENT}/?$`), ROUTE.member],
  [new RegExp(`^/instances/${SEGMENT}/orgs/${SEGMENT}/?$`), ROUTE.org],
];

function matchRoute(pathname: string): RouteMatch | undefined {
  // GET /me names no org: the match carries empty ids and operate() never looks an org up for it
  if (/^\/me\/?$/.test(pathname)) return { route: ROUTE.me, instanceId: '', orgId: '' };
  for (const [re, route] of PATTERNS) {
    const m = re.exec(pathname);
    if (!m) continue;
    const [instanceId, orgId, third] = m.slice(1).map((s) => safeDecode(s));
    if (instanceId === undefined || orgId === undefined) return undefined;
    if (third === undefined) return { route, instanceId, orgId };
    return route === ROUTE.member ? { route, instanceId, orgId, userId: third } : { route, instanceId, orgId, inviteId: third };
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const answer = (status: number, body: unknown, headers?: Record<string, string>): Outcome => (headers ? { status, body, headers } : { status, body });
const fail = (status: number, type: string, message: string): Outcome => answer(status, { type, message });

function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

type BodyRead = { ok: true; data: unknown } | { ok: false; outcome: Outcome };

async function readJson(req: IncomingMessage): Promise<BodyRead> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) return { ok: false, outcome: fail(413, 'PayloadTooLarge', `request body is larger than ${MAX_BODY_BYTES} bytes`) };
  try {
    return { ok: true, data: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { ok: false, outcome: fail(400, 'Validation', 'request body must be JSON') };
  }
}

function checkRate(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new EmulatorOptionsError(`${name} must be a number from ${min} to ${max}, got ${String(value)}`);
  }
}

function checkFaults(f: EmulatorFaults): void {
  checkRate('latencyMs', f.latencyMs, 0, 600_000);
  checkRate('errorRate', f.errorRate, 0, 1);
  checkRate('lostResponseRate', f.lostResponseRate, 0, 1);
  checkRate('rateLimit', f.rateLimit, 0, 1_000_000);
}

/**
 * Starts the Losant API emulator on a real HTTP port and resolves once it listens.
 * Check order of an API request: route (404) → token (401) → scope (403) → rate limit (429)
 * → injected error (503) → instance/org/invite (404) → query or body (400) → effect → lost answer.
 * `/_emulator/*` skips all of it.
 * @example const emu = await startEmulator({ seed }); await fetch(`${emu.url}/_emulator/stats`); await emu.close();
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  checkFaults(options);
  checkRate('postDelayMs', options.postDelayMs, 0, 600_000);
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535)) {
    throw new EmulatorOptionsError(`port must be an integer from 0 to 65535, got ${options.port}`);
  }
  if (options.faultSeed !== undefined && !(Number.isInteger(options.faultSeed) && options.faultSeed >= 0 && options.faultSeed < 2 ** 32)) {
    throw new EmulatorOptionsError(`faultSeed must be an integer from 0 to 4294967295, got ${options.faultSeed}`);
  }
  const now = options.now ?? Date.now;
  const postDelayMs = options.postDelayMs ?? 0;
  const state = new EmulatorState(parseSeed(options.seed ?? {}, 'options.seed'), now);
  const faults = {
    latencyMs: options.latencyMs ?? 0,
    errorRate: options.errorRate ?? 0,
    lostResponseRate: options.lostResponseRate ?? 0,
    rateLimit: options.rateLimit ?? 0,
  };
  let limiter = faults.rateLimit > 0 ? new TokenBucketLimiter(faults.rateLimit) : undefined;
  const faultSeed = options.faultSeed ?? randomInt(2 ** 32 - 1);
  const random = mulberry32(faultSeed);
  const counters = new Map<string, { method: string; route: string; status: number; count: number }>();
  let duplicateInvites = 0;
  const timers = new Set<NodeJS.Timeout>();

  const count = (method: string, route: string, status: number): void => {
    const key = `${method} ${route} ${status}`;
    const c = counters.get(key);
    if (c) c.count++;
    else counters.set(key, { method, route, status, count: 1 });
  };
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  const stats = (): EmulatorStats => ({
    requests: [...counters.values()]
      .map((c) => ({ ...c }))
      .sort((a, b) => a.route.localeCompare(b.route) || a.method.localeCompare(b.method) || a.status - b.status),
    duplicateInvites,
  });
  const reset = (): void => {
    counters.clear();
    duplicateInvites = 0;
  };

  const links = !options.plainAnswers;
  /** The invite collection answer, serialized without building an object per invite (see invitesBody). */
  const collection = (status: number, m: RouteMatch, q: ListQuery<InviteSortField>): Outcome => ({ status, body: undefined, text: invitesBody(state, m, q, links) });

  /** 400 when members + unexpired pending invites already fill the org's member limit (the body is a guess: undocumented). */
  const seatRefusal = (m: RouteMatch): Outcome | undefined => {
    const limit = state.memberLimit(m.instanceId, m.orgId);
    if (limit === undefined || state.seatsTaken(m.instanceId, m.orgId) < limit) return undefined;
    return fail(400, 'LimitExceeded', `The organization has reached its member limit (${limit}): members and pending invites count against it`);
  };

  /** Everything after auth, limits and injected errors: lookups, validation, effect. */
  async function operate(req: IncomingMessage, method: string, m: RouteMatch, params: URLSearchParams, token: string): Promise<Outcome> {
    if (m.route === ROUTE.me) return answer(200, state.me(token));
    state.org(m.instanceId, m.orgId);
    if (m.inviteId !== undefined) state.getInvite(m.instanceId, m.orgId, m.inviteId);
    if (m.userId !== undefined) state.getMember(m.instanceId, m.orgId, m.userId);
    if (m.route === ROUTE.members && method === 'POST') {
      const read = await readJson(req);
      if (!read.ok) return read.outcome;
      const problem = checkMemberPost(read.data);
      if (problem) return fail(400, 'Validation', problem);
      return answer(200, state.addMember(m.instanceId, m.orgId, read.data as { userId?: string; email?: string; role: Role }));
    }
    if (m.route === ROUTE.member) {
      const userId = m.userId as string;
      if (method === 'GET') return answer(200, state.getMember(m.instanceId, m.orgId, userId));
      if (method === 'DELETE') {
        state.deleteMember(m.instanceId, m.orgId, userId);
        return answer(200, { success: true });
      }
      const read = await readJson(req);
      if (!read.ok) return read.outcome;
      const problem = checkMemberPatch(read.data);
      if (problem) return fail(400, 'Validation', problem);
      return answer(200, state.patchMember(m.instanceId, m.orgId, userId, read.data as { role?: Role }));
    }
    let body: unknown;
    if (method === 'POST') {
      const read = await readJson(req);
      if (!read.ok) return read.outcome;
      body = read.data;
      // a late effect: the invite appears (and the answer goes) only after the delay, whether the client waits or not
      if (postDelayMs > 0) await sleep(postDelayMs);
    }
    if (m.route === ROUTE.org) return answer(200, state.orgView(m.instanceId, m.orgId));
    if (m.route === ROUTE.invites && method === 'GET') {
      const parsed = parseListQuery(params, INVITE_SORT_FIELDS, INVITE_DEFAULTS);
      return parsed.ok ? collection(200, m, parsed.query) : fail(400, 'Validation', parsed.message);
    }
    if (m.route === ROUTE.members) {
      const parsed = parseListQuery(params, MEMBER_SORT_FIELDS, MEMBER_DEFAULTS);
      if (!parsed.ok) return fail(400, 'Validation', parsed.message);
      const items = state.listMembers(m.instanceId, m.orgId, parsed.query);
      return answer(200, { items, instanceId: m.instanceId.toLowerCase(), orgId: m.orgId.toLowerCase(), count: items.length, ...parsed.query });
    }
    if (m.route === ROUTE.invites) {
      const problem = checkInvitePost(body);
      if (problem) return fail(400, 'Validation', problem);
      const post = body as { email: string; role: Role; applicationRoles?: ResourceRole[]; dashboardRoles?: ResourceRole[]; disallowTransfer?: boolean };
      const full = seatRefusal(m);
      if (full) return full;
      if (state.hasLiveInvite(m.instanceId, m.orgId, post.email)) duplicateInvites++;
      state.createInvite(m.instanceId, m.orgId, post);
      return collection(201, m, INVITE_DEFAULTS);
    }
    const inviteId = m.inviteId as string;
    if (method === 'GET') return answer(200, state.getInvite(m.instanceId, m.orgId, inviteId));
    if (method === 'DELETE') {
      state.deleteInvite(m.instanceId, m.orgId, inviteId);
      return answer(200, { success: true });
    }
    const problem = checkRoleInfo(body);
    if (problem) return fail(400, 'Validation', problem);
    // resending an expired invite makes it count against the limit again
    const full = state.getInvite(m.instanceId, m.orgId, inviteId).hasExpired ? seatRefusal(m) : undefined;
    if (full) return full;
    return answer(201, state.resendInvite(m.instanceId, m.orgId, inviteId, body as { role?: Role }));
  }

  async function api(req: IncomingMessage, method: string, m: RouteMatch, params: URLSearchParams): Promise<Outcome> {
    const accepted = SCOPES[`${method} ${m.route}`] ?? [];
    const token = bearerToken(req.headers.authorization);
    const scopes = token === undefined ? undefined : state.tokens.get(token);
    if (token === undefined || scopes === undefined) {
      return fail(401, 'Unauthorized', token === undefined ? 'Authorization header with a Bearer token is required' : 'Invalid access token');
    }
    if (!accepted.some((s) => scopes.has(s))) {
      return fail(403, 'Forbidden', `The token needs one of the scopes: ${accepted.join(', ')}`);
    }
    if (limiter) {
      const taken = limiter.take(token, now());
      if (!taken.ok) {
        return answer(429, { type: 'TooManyRequests', message: `Rate limit of ${faults.rateLimit} requests per second exceeded` }, { 'retry-after': String(taken.retryAfterSeconds) });
      }
    }
    if (random() < faults.errorRate) return fail(503, 'ServiceUnavailable', 'Service temporarily unavailable (injected)');
    const lose = method !== 'GET' && random() < faults.lostResponseRate;
    let outcome: Outcome;
    try {
      outcome = await operate(req, method, m, params, token);
    } catch (err) {
      if (err instanceof EmulatorNotFoundError) return fail(404, 'NotFound', err.message);
      if (err instanceof EmulatorConflictError) return fail(400, 'Validation', err.message);
      throw err;
    }
    if (outcome.status < 300 && links && outcome.text === undefined) outcome = { ...outcome, body: withLinks(m, outcome.body) };
    return lose && outcome.status < 300 ? { ...outcome, lose: true } : outcome;
  }

  function admin(method: string, pathname: string): Outcome {
    const path = pathname.replace(/\/$/, '');
    if (method === 'GET' && path === '/_emulator/stats') return answer(200, stats());
    if (method === 'GET' && path === '/_emulator/state') return answer(200, state.snapshot());
    if (method === 'POST' && path === '/_emulator/reset') {
      reset();
      return answer(200, { success: true });
    }
    return fail(404, 'NotFound', `no route ${method} ${pathname}`);
  }

  function send(res: ServerResponse, o: Outcome): void {
    const headers = { 'content-type': 'application/json; charset=utf-8', ...o.headers };
    if (!o.text) {
      const text = JSON.stringify(o.body);
      res.writeHead(o.status, { ...headers, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    const { length, release } = o.text;
    // the client left while the answer waited: nothing to write
    if (res.destroyed || res.closed) return release();
    // the pieces may be a copy the state lends out: it goes back once the socket has taken them, or is gone ('close' comes either way)
    res.once('close', release);
    res.writeHead(o.status, { ...headers, 'content-length': length });
    // made now, as they were at the effect; written in one tick: the socket is corked until the next, so headers and pieces leave in one writev
    const chunks = o.text.chunks();
    for (let k = 0; k < chunks.length - 1; k++) res.write(chunks[k]);
    res.end(chunks[chunks.length - 1]);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    if (url.pathname === '/_emulator' || url.pathname.startsWith('/_emulator/')) return send(res, admin(method, url.pathname));
    const m = matchRoute(url.pathname);
    const known = m !== undefined && SCOPES[`${method} ${m.route}`] !== undefined;
    const outcome = m && known ? await api(req, method, m, url.searchParams) : fail(404, 'NotFound', `no route ${method} ${url.pathname}`);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const route = m?.route ?? '(unknown)';
    if (outcome.lose) {
      count(method, route, 0);
      outcome.text?.release();
      req.socket.destroy();
      return;
    }
    count(method, route, outcome.status);
    send(res, outcome);
  }

  const conns = { opened: 0, open: 0, peak: 0 };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // a client that vanished mid-body, or a bug: answer 500 when still possible, never crash the emulator
      if (!res.headersSent && !res.destroyed) send(res, { status: 500, body: { type: 'InternalError', message: 'emulator error' } });
      else res.destroy();
    });
  });

  server.on('connection', (socket) => {
    conns.opened++;
    conns.open++;
    if (conns.open > conns.peak) conns.peak = conns.open;
    socket.once('close', () => conns.open--);
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new EmulatorStartError(`emulator cannot listen on ${host}:${options.port ?? 0}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;

  const directOrg = (instanceId: string, orgId: string) => state.org(instanceId, orgId);

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    faultSeed,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
    stats,
    reset,
    setFaults: (f) => {
      checkFaults(f);
      if (f.latencyMs !== undefined) faults.latencyMs = f.latencyMs;
      if (f.errorRate !== undefined) faults.errorRate = f.errorRate;
      if (f.lostResponseRate !== undefined) faults.lostResponseRate = f.lostResponseRate;
      if (f.rateLimit !== undefined && f.rateLimit !== faults.rateLimit) {
        faults.rateLimit = f.rateLimit;
        limiter = f.rateLimit > 0 ? new TokenBucketLimiter(f.rateLimit) : undefined;
      }
    },
    invites: (instanceId, orgId) => state.listInvites(instanceId, orgId, INVITE_DEFAULTS),
    members: (instanceId, orgId) =>
      state.listMembers(instanceId, orgId, MEMBER_DEFAULTS).map(({ email, role, userId }) => ({ email, role, userId })),
    acceptInvite: (instanceId, orgId, email) => state.acceptInvite(instanceId, orgId, email),
    removeMember: (instanceId, orgId, email) => state.removeMember(instanceId, orgId, email),
    addInvite: (instanceId, orgId, inv) => {
      directOrg(instanceId, orgId);
      if (!isSchemaEmail(inv.email)) throw new EmulatorStateError('addInvite: email does not match the published schema (format email)');
      if (!(ROLES as readonly string[]).includes(inv.role)) throw new EmulatorStateError(`addInvite: role must be one of ${ROLES.join(', ')}`);
      const inviteDateMs = inv.inviteDate === undefined ? undefined : Date.parse(inv.inviteDate);
      if (Number.isNaN(inviteDateMs)) throw new EmulatorStateError('addInvite: inviteDate must be an ISO date-time');
      return state.createInvite(instanceId, orgId, { email: inv.email, role: inv.role as Role, inviteDateMs, hasExpired: inv.hasExpired });
    },
    revokeInviteByEmail: (instanceId, orgId, email) => state.revokeInviteByEmail(instanceId, orgId, email),
    setMemberLimit: (instanceId, orgId, limit) => state.setMemberLimit(instanceId, orgId, limit),
    connections: () => ({ ...conns }),
  };
}
