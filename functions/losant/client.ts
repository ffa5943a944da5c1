// use case --> InviteApi port --> LosantClient (undici; retries, pacing, exact-lookup recovery) --> Losant REST API
import { Agent, type Dispatcher } from 'undici';
import type { z } from 'zod';
import type { CallOptions, CreateInviteResult, InviteApi, InviteQuery, Log, NewInvite } from '../sync/ports.ts';
import type { ApiFailureKind } from '../sync/errors.ts';
import type { Member, OrgRole, PendingInvite, TargetRef } from '../sync/types.ts';
import { maskEmail, maskEmails } from '../sync/email.ts';
import { normalizeEmailForCompare } from './email.ts';
import { LosantApiError } from './errors.ts';
import { AdaptiveRateGovernor, type RateGovernor } from './governor.ts';
import {
  InstanceOrgMembersSchema, LosantErrorBodySchema, OrgInviteCollectionEnvelopeSchema, OrgInviteCollectionSchema, OrgInvitePostSchema, OrgInviteSchema,
  OrgRoleInfoSchema, SuccessSchema, type InstanceOrgMember, type OrgInvite,
} from './schemas.ts';

/** Route templates, as metrics and the emulator's stats name them (no ids, no emails). */
export const ROUTES = {
  invites: '/instances/:instanceId/orgs/:orgId/invites',
  invite: '/instances/:instanceId/orgs/:orgId/invites/:inviteId',
  members: '/instances/:instanceId/orgs/:orgId/members',
} as const;

/** Supplies the bearer token; `refresh: true` asks for a fresh one (after a 401, e.g. a rotated secret). */
export type TokenProvider = (opts?: { refresh?: boolean }) => Promise<string>;

/** One HTTP exchange, for metrics and benchmarks. `status` is 0 when no answer came (network error, timeout). */
export interface RequestEvent {
  method: string;
  route: string;
  status: number;
  ms: number;
}

export interface RetryOptions {
  /** attempts per call, the first one included; default 6 */
  maxAttempts?: number;
  /** default 100 */
  baseDelayMs?: number;
  /** cap of one backoff delay; default 10_000 */
  maxDelayMs?: number;
  /** a Retry-After longer than this fails the call as `throttled` at once; default 60_000 */
  maxRetryAfterMs?: number;
}

export interface LosantClientOptions {
  /** e.g. `https://api.losant.com` (a path prefix is kept) */
  baseUrl: string;
  token: string | TokenProvider;
  /** default: an undici Agent with keep-alive, 64 connections per origin, pipelining 1 (closed by `close()`) */
  dispatcher?: Dispatcher;
  /** per attempt, capped by the time left before the call's deadline; default 10_000 */
  requestTimeoutMs?: number;
  retry?: RetryOptions;
  /** default: an AdaptiveRateGovernor on the same clock */
  governor?: RateGovernor;
  log?: Log;
  /** [0, 1); default Math.random (full jitter) */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  onRequest?: (e: RequestEvent) => void;
}

type Method = 'GET' | 'POST' | 'DELETE';
type Route = (typeof ROUTES)[keyof typeof ROUTES];

interface RequestSpec {
  method: Method;
  route: Route;
  path: string;
  body?: unknown;
}

/** What one HTTP attempt gave: an answer, or none (`sent: false` when the connection was never made). */
type Outcome =
  | { ok: true; status: number; headers: Record<string, string | string[] | undefined>; text: string; token: string }
  | { ok: false; reason: 'timeout' | 'network' | 'deadline' | 'aborted'; sent: boolean; cause: unknown };

/** Errors raised before any byte left: the request cannot have had an effect. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

const sleepReal = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const noopLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/**
 * The Losant invites API over HTTP (undici). Implements the InviteApi port.
 *
 * Retries: GET, DELETE and resend (POST to one invite: resending the same role info twice has no
 * harmful effect, so it counts as idempotent here) are retried on 429, 408, 5xx, dropped connections
 * and timeouts, with full-jitter exponential backoff; a 429's Retry-After is the minimum wait.
 * createInvite is never retried blindly: see its doc. 400/401/403/404 are not retried (a 401 fetches
 * a fresh token once when `token` is a function). Every wait and request fits before `opts.deadline`.
 * @example
 * const api = new LosantClient({ baseUrl: 'https://api.losant.com', token: () => secrets.token() });
 * const pending = await api.listInvites({ instanceId, orgId }, undefined, { deadline: Date.now() + 30_000 });
 * await api.close();
 */
export class LosantClient implements InviteApi {
  private readonly origin: string;
  private readonly prefix: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly tokenSource: string | TokenProvider;
  private tokenPromise: Promise<string> | undefined;
  /** the token last used, so error texts can be scrubbed of it */
  private lastToken: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly governor: RateGovernor;
  private readonly log: Log;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly onRequest: ((e: RequestEvent) => void) | undefined;

  constructor(opts: LosantClientOptions) {
    const base = new URL(opts.baseUrl);
    this.origin = base.origin;
    this.prefix = base.pathname.replace(/\/+$/, '');
    this.ownsDispatcher = opts.dispatcher === undefined;
    this.dispatcher = opts.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, connections: 64, pipelining: 1 });
    this.tokenSource = opts.token;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, opts.retry?.maxAttempts ?? 6);
    this.baseDelayMs = opts.retry?.baseDelayMs ?? 100;
    this.maxDelayMs = opts.retry?.maxDelayMs ?? 10_000;
    this.maxRetryAfterMs = opts.retry?.maxRetryAfterMs ?? 60_000;
    this.log = opts.log ?? noopLog;
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? sleepReal;
    this.now = opts.now ?? Date.now;
    this.governor = opts.governor ?? new AdaptiveRateGovernor({ now: this.now, sleep: this.sleep });
    this.onRequest = opts.onRequest;
  }

  /**
   * GET the pending invites (expired ones included, `hasExpired: true`), emails normalised.
   * @example await api.listInvites(target, { filterField: 'email', filter: '*@example.com' })
   */
  async listInvites(target: TargetRef, query: InviteQuery = {}, opts: CallOptions = {}): Promise<PendingInvite[]> {
    const path = this.collectionPath(target, 'invites') + queryString(query);
    const data = await this.call({ method: 'GET', route: ROUTES.invites, path }, OrgInviteCollectionSchema, opts);
    return (data.items ?? []).map((item) => toPendingInvite(item, 'GET', ROUTES.invites));
  }

  /**
   * GET the org's accepted members, emails normalised.
   * @example const members = await api.listMembers(target, { deadline });
   */
  async listMembers(target: TargetRef, opts: CallOptions = {}): Promise<Member[]> {
    const path = this.collectionPath(target, 'members');
    const data = await this.call({ method: 'GET', route: ROUTES.members, path }, InstanceOrgMembersSchema, opts);
    return (data.items ?? []).map(toMember);
  }

  /**
   * POST one invite. A 429 (refused, no effect) is retried after its Retry-After. A 5xx, timeout or
   * dropped connection leaves it unknown whether the invite was created: after the backoff the
   * email is looked up (`filterField=email`, exact comparison of normalised emails); found → returned
   * with `recovered: true`, not found → POSTed again within the attempts and the deadline.
   * @example const { invite, recovered } = await api.createInvite(target, { email: 'ann@example.com', role: 'view' });
   */
  async createInvite(target: TargetRef, invite: NewInvite, opts: CallOptions = {}): Promise<CreateInviteResult> {
    const body = this.validBody(OrgInvitePostSchema, { email: invite.email.trim(), role: invite.role }, 'POST', ROUTES.invites);
    const spec: RequestSpec = { method: 'POST', route: ROUTES.invites, path: this.collectionPath(target, 'invites'), body };
    const wanted = normalizeEmailForCompare(body.email);
    let refreshed = false;
    let attempt = 0;
    for (;;) {
      attempt++;
      const outcome = await this.attempt(spec, opts, attempt);
      let failure: LosantApiError;
      if (outcome.ok && outcome.status >= 200 && outcome.status < 300) {
        const data = this.parseAnswer(outcome.text, OrgInviteCollectionEnvelopeSchema, spec, outcome.status, attempt);
        const mine = (data.items ?? []).filter((i) => rawEmailMatches(i, wanted));
        const checked = mine.map((i) => toPendingInvite(this.parseItem(i, spec, outcome.status, attempt), 'POST', ROUTES.invites));
        const found = newestByEmail(checked, wanted);
        if (found) return { invite: found, recovered: false };
        // created, but the answer does not list it: ask for it by email
        const looked = await this.findInviteByEmail(target, body.email, opts);
        if (looked) return { invite: looked, recovered: false };
        throw this.error('invalidResponse', spec, attempt, 'the answer does not list the new invite and a lookup did not find it', { status: outcome.status });
      }
      if (outcome.ok) {
        if (outcome.status === 401 && !refreshed && this.canRefresh()) {
          refreshed = true;
          await this.refreshToken(outcome.token, spec, attempt);
          attempt--;
          continue;
        }
        failure = this.statusError(spec, outcome, attempt);
        if (!isRetryableStatus(outcome.status)) throw failure;
      } else {
        failure = this.outcomeError(spec, outcome, attempt);
        if (outcome.reason === 'deadline' || outcome.reason === 'aborted') throw failure;
      }
      // 429 and a failed connect had no effect; anything else may have created the invite
      const ambiguous = !(outcome.ok && outcome.status === 429) && !(!outcome.ok && !outcome.sent);
      const last = attempt >= this.maxAttempts;
      if (!last || ambiguous) await this.backoff(spec, outcome, attempt, opts, failure);
      if (ambiguous) {
        const found = await this.findInviteByEmail(target, body.email, opts);
        if (found) {
          this.log.info('losant invite found after an unanswered POST', { route: spec.route, email: maskEmail(body.email), attempt });
          return { invite: found, recovered: true };
        }
      }
      if (last) throw failure;
    }
  }

  /**
   * GET one invite by id.
   * @example const invite = await api.getInvite(target, '575ec8687ae143cd83dc4a97');
   */
  async getInvite(target: TargetRef, inviteId: string, opts: CallOptions = {}): Promise<PendingInvite> {
    const spec: RequestSpec = { method: 'GET', route: ROUTES.invite, path: this.invitePath(target, inviteId) };
    return toPendingInvite(await this.call(spec, OrgInviteSchema, opts), 'GET', ROUTES.invite);
  }

  /**
   * POST role info to one invite: Losant resends it (new inviteDate, not expired). Retried like a GET.
   * @example const renewed = await api.resendInvite(target, invite.id, { role: 'view' });
   */
  async resendInvite(target: TargetRef, inviteId: string, roleInfo: { role: OrgRole }, opts: CallOptions = {}): Promise<PendingInvite> {
    const body = this.validBody(OrgRoleInfoSchema, { role: roleInfo.role }, 'POST', ROUTES.invite);
    const spec: RequestSpec = { method: 'POST', route: ROUTES.invite, path: this.invitePath(target, inviteId), body };
    return toPendingInvite(await this.call(spec, OrgInviteSchema, opts), 'POST', ROUTES.invite);
  }

  /**
   * DELETE one invite. Retried like a GET; a 404 after an unanswered attempt counts as revoked
   * (that attempt took effect).
   * @example await api.revokeInvite(target, invite.id);
   */
  async revokeInvite(target: TargetRef, inviteId: string, opts: CallOptions = {}): Promise<void> {
    const spec: RequestSpec = { method: 'DELETE', route: ROUTES.invite, path: this.invitePath(target, inviteId) };
    await this.call(spec, SuccessSchema, opts, { notFoundAfterAmbiguousIsSuccess: true });
  }

  /** Closes the default agent (a dispatcher passed in stays open: its owner closes it). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.destroy();
  }

  // ---------------------------------------------------------------- internals

  /** Looks an email up with the glob filter and compares exactly (a `*` in the address must not widen the match). */
  private async findInviteByEmail(target: TargetRef, email: string, opts: CallOptions): Promise<PendingInvite | undefined> {
    const invites = await this.listInvites(target, { filterField: 'email', filter: email }, opts);
    return newestByEmail(invites, normalizeEmailForCompare(email));
  }

  /** The retry loop of every call except createInvite. */
  private async call<S extends z.ZodType>(
    spec: RequestSpec,
    schema: S,
    opts: CallOptions,
    flags: { notFoundAfterAmbiguousIsSuccess?: boolean } = {},
  ): Promise<z.infer<S>> {
    let refreshed = false;
    let ambiguousBefore = false;
    let attempt = 0;
    for (;;) {
      attempt++;
      const outcome = await this.attempt(spec, opts, attempt);
      let failure: LosantApiError;
      if (outcome.ok) {
        if (outcome.status >= 200 && outcome.status < 300) return this.parseAnswer(outcome.text, schema, spec, outcome.status, attempt);
        if (outcome.status === 404 && ambiguousBefore && flags.notFoundAfterAmbiguousIsSuccess) {
          return this.parseAnswer('{"success":true}', schema, spec, 200, attempt);
        }
        if (outcome.status === 401 && !refreshed && this.canRefresh()) {
          refreshed = true;
          await this.refreshToken(outcome.token, spec, attempt);
          attempt--;
          continue;
        }
        failure = this.statusError(spec, outcome, attempt);
        if (!isRetryableStatus(outcome.status)) throw failure;
        if (outcome.status !== 429) ambiguousBefore = true;
      } else {
        failure = this.outcomeError(spec, outcome, attempt);
        if (outcome.reason === 'deadline' || outcome.reason === 'aborted') throw failure;
        if (outcome.sent) ambiguousBefore = true;
      }
      if (attempt >= this.maxAttempts) throw failure;
      await this.backoff(spec, outcome, attempt, opts, failure);
    }
  }

  /** One HTTP exchange: deadline check, pacing, token, request with a timeout, body read. */
  private async attempt(spec: RequestSpec, opts: CallOptions, attempt: number): Promise<Outcome> {
    this.checkStart(spec, opts, attempt);
    await this.governor.acquire(opts.deadline).catch((err: unknown) => {
      throw this.error('deadline', spec, attempt - 1, 'deadline reached while waiting for the rate limit', { cause: err });
    });
    this.checkStart(spec, opts, attempt);
    const token = await this.getToken(spec, attempt);
    this.lastToken = token;
    const left = opts.deadline === undefined ? Number.POSITIVE_INFINITY : opts.deadline - this.now();
    const timeoutMs = Math.max(1, Math.min(this.requestTimeoutMs, left));
    const byDeadline = left < this.requestTimeoutMs;
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), timeoutMs);
    const signal = opts.signal ? AbortSignal.any([timer.signal, opts.signal]) : timer.signal;
    const started = performance.now();
    let status = 0;
    try {
      const res = await this.dispatcher.request({
        origin: this.origin,
        path: spec.path,
        method: spec.method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(spec.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: spec.body === undefined ? null : JSON.stringify(spec.body),
        signal,
      });
      const text = await res.body.text();
      status = res.statusCode;
      const retryAfterMs = status === 429 ? parseRetryAfter(res.headers['retry-after'], this.now()) : undefined;
      this.governor.onResponse(status, retryAfterMs);
      return { ok: true, status, headers: res.headers, text, token };
    } catch (err) {
      if (opts.signal?.aborted) return { ok: false, reason: 'aborted', sent: true, cause: opts.signal.reason };
      if (timer.signal.aborted) return { ok: false, reason: byDeadline ? 'deadline' : 'timeout', sent: true, cause: err };
      return { ok: false, reason: 'network', sent: !NOT_SENT_CODES.has(errorCode(err) ?? ''), cause: err };
    } finally {
      clearTimeout(timeout);
      this.onRequest?.({ method: spec.method, route: spec.route, status, ms: Math.round(performance.now() - started) });
    }
  }

  /** Full-jitter backoff (Retry-After as the floor), never past the deadline. */
  private async backoff(spec: RequestSpec, outcome: Outcome, attempt: number, opts: CallOptions, failure: LosantApiError): Promise<void> {
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    let delay = this.random() * cap;
    if (outcome.ok && outcome.status === 429) {
      const retryAfter = parseRetryAfter(outcome.headers['retry-after'], this.now());
      if (retryAfter !== undefined && retryAfter > this.maxRetryAfterMs) {
        throw this.error('throttled', spec, attempt, `Retry-After of ${Math.ceil(retryAfter / 1000)} s is longer than allowed`, { status: 429, cause: failure });
      }
      delay = Math.max(delay, retryAfter ?? 0);
    }
    if (opts.deadline !== undefined && this.now() + delay >= opts.deadline) {
      throw this.error('deadline', spec, attempt, `deadline reached before a retry could start (last: ${failure.message})`, {
        status: failure.status, apiType: failure.apiType, cause: failure,
      });
    }
    this.log.debug('losant request retry', { method: spec.method, route: spec.route, attempt, kind: failure.kind, status: failure.status, delayMs: Math.round(delay) });
    await this.sleepUnlessAborted(delay, opts.signal, spec, attempt);
  }

  private async sleepUnlessAborted(ms: number, signal: AbortSignal | undefined, spec: RequestSpec, attempt: number): Promise<void> {
    if (!signal) return this.sleep(ms);
    if (signal.aborted) throw this.error('deadline', spec, attempt, 'the call was aborted', { cause: signal.reason });
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(this.error('deadline', spec, attempt, 'the call was aborted', { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.sleep(ms), aborted]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  private checkStart(spec: RequestSpec, opts: CallOptions, attempt: number): void {
    if (opts.signal?.aborted) throw this.error('deadline', spec, attempt - 1, 'the call was aborted', { cause: opts.signal.reason });
    if (opts.deadline !== undefined && this.now() >= opts.deadline) {
      throw this.error('deadline', spec, attempt - 1, 'deadline reached before the request could start');
    }
  }

  private canRefresh(): boolean {
    return typeof this.tokenSource === 'function';
  }

  private async getToken(spec: RequestSpec, attempt: number): Promise<string> {
    if (typeof this.tokenSource === 'string') return this.tokenSource;
    const source = this.tokenSource;
    this.tokenPromise ??= source();
    try {
      return await this.tokenPromise;
    } catch (err) {
      this.tokenPromise = undefined;
      throw this.error('unauthorized', spec, attempt - 1, 'could not obtain the Losant token', { cause: err });
    }
  }

  /** After a 401: fetch a fresh token once, unless another call already replaced the one that failed. */
  private async refreshToken(failed: string, spec: RequestSpec, attempt: number): Promise<void> {
    const source = this.tokenSource;
    if (typeof source === 'string') return;
    const current = await this.tokenPromise?.catch(() => undefined);
    if (current !== undefined && current !== failed) return;
    this.log.info('losant token refused: fetching a fresh one', { method: spec.method, route: spec.route });
    this.tokenPromise = source({ refresh: true });
    await this.getToken(spec, attempt);
  }

  private validBody<S extends z.ZodType>(schema: S, body: unknown, method: Method, route: Route): z.infer<S> {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    throw new LosantApiError('badRequest', `${method} ${route}: the request body does not match the published schema: ${this.issues(parsed.error)}`, {
      method, route, cause: parsed.error,
    });
  }

  private parseAnswer<S extends z.ZodType>(text: string, schema: S, spec: RequestSpec, status: number, attempt: number): z.infer<S> {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw this.error('invalidResponse', spec, attempt, 'the answer is not JSON', { status, cause: err });
    }
    const parsed = schema.safeParse(data);
    if (parsed.success) return parsed.data;
    throw this.error('invalidResponse', spec, attempt, `the answer does not match the published schema: ${this.issues(parsed.error)}`, {
      status, cause: parsed.error,
    });
  }

  private parseItem(item: unknown, spec: RequestSpec, status: number, attempt: number): OrgInvite {
    const parsed = OrgInviteSchema.safeParse(item);
    if (parsed.success) return parsed.data;
    throw this.error('invalidResponse', spec, attempt, `the answer does not match the published schema: items: ${this.issues(parsed.error)}`, {
      status, cause: parsed.error,
    });
  }

  private issues(error: z.ZodError): string {
    return error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
  }

  /** Maps an HTTP answer that is not a success to the domain's failure kinds. */
  private statusError(spec: RequestSpec, outcome: Extract<Outcome, { ok: true }>, attempt: number): LosantApiError {
    const { status } = outcome;
    let parsed: unknown;
    try {
      parsed = JSON.parse(outcome.text);
    } catch {
      parsed = undefined;
    }
    const body = LosantErrorBodySchema.safeParse(parsed);
    const apiType = body.success ? body.data.type : undefined;
    const apiMessage = body.success ? body.data.message : undefined;
    const kind: ApiFailureKind =
      status === 401 ? 'unauthorized'
        : status === 403 ? 'forbidden'
          : status === 404 ? 'notFound'
            : status === 429 ? 'throttled'
              : status >= 500 || status === 408 ? 'server'
                : status >= 200 && status < 300 ? 'invalidResponse'
                  : 'badRequest';
    const detail = [apiType, apiMessage].filter((s) => s !== undefined && s !== '').join(': ');
    const text = `answered ${status}${detail ? ` ${detail}` : ''}`;
    return this.error(kind, spec, attempt, text, { status, ...(apiType === undefined ? {} : { apiType: this.scrub(apiType) }) });
  }

  private outcomeError(spec: RequestSpec, outcome: Extract<Outcome, { ok: false }>, attempt: number): LosantApiError {
    const cause = outcome.cause;
    switch (outcome.reason) {
      case 'aborted':
        return this.error('deadline', spec, attempt, 'the call was aborted', { cause });
      case 'deadline':
        return this.error('deadline', spec, attempt, 'deadline reached while waiting for the answer', { cause });
      case 'timeout':
        return this.error('network', spec, attempt, `no answer within ${this.requestTimeoutMs} ms`, { cause });
      default:
        return this.error('network', spec, attempt, `connection failed (${errorCode(cause) ?? (cause instanceof Error ? cause.name : 'error')})`, { cause });
    }
  }

  private error(
    kind: ApiFailureKind,
    spec: Pick<RequestSpec, 'method' | 'route'>,
    attempt: number,
    text: string,
    extra: { status?: number; apiType?: string; cause?: unknown } = {},
  ): LosantApiError {
    const message = this.scrub(`Losant ${spec.method} ${spec.route}: ${text}`);
    return new LosantApiError(kind, message, { ...extra, method: spec.method, route: spec.route, attempts: Math.max(0, attempt) });
  }

  /** Error texts may quote an answer: never let a token or a whole email through. */
  private scrub(text: string): string {
    let out = maskEmails(text);
    for (const secret of [typeof this.tokenSource === 'string' ? this.tokenSource : undefined, this.lastToken]) {
      if (secret) out = out.split(secret).join('***');
    }
    return out.replace(/(bearer\s+)\S+/gi, '$1***');
  }

  private collectionPath(target: TargetRef, what: 'invites' | 'members'): string {
    return `${this.prefix}/instances/${encodeURIComponent(target.instanceId)}/orgs/${encodeURIComponent(target.orgId)}/${what}`;
  }

  private invitePath(target: TargetRef, inviteId: string): string {
    return `${this.collectionPath(target, 'invites')}/${encodeURIComponent(inviteId)}`;
  }
}

// ------------------------------------------------------------------ helpers

function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * Builds `?sortField=…&sortDirection=…&filterField=…&filter=…` with every value percent-encoded
 * (`+` → %2B, `@` → %40; `*` is unreserved and stays).
 * @example queryString({ filterField: 'email', filter: 'a+b@x.com' }) // '?filterField=email&filter=a%2Bb%40x.com'
 */
export function queryString(query: InviteQuery): string {
  const pairs: string[] = [];
  for (const key of ['sortField', 'sortDirection', 'filterField', 'filter'] as const) {
    const value = query[key];
    if (value !== undefined) pairs.push(`${key}=${encodeURIComponent(value)}`);
  }
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

/**
 * Reads Retry-After: delta-seconds or an HTTP-date; ms from `now`, never negative; undefined when absent or unreadable.
 * @example parseRetryAfter('2', Date.now()) // 2000
 */
export function parseRetryAfter(header: string | string[] | undefined, now: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function toPendingInvite(item: OrgInvite, method: Method, route: Route): PendingInvite {
  const { id, email, role, inviteDate } = item;
  if (id === undefined || email === undefined || role === undefined || inviteDate === undefined) {
    throw new LosantApiError('invalidResponse', `Losant ${method} ${route}: an invite lacks id, email, role or inviteDate`, { method, route });
  }
  const invite: PendingInvite = { id, email: normalizeEmailForCompare(email), role, inviteDate, hasExpired: item.hasExpired ?? false };
  if (item.ttl !== undefined) invite.ttl = item.ttl;
  return invite;
}

function toMember(item: InstanceOrgMember): Member {
  const { email, role } = item;
  if (email === undefined || role === undefined) {
    throw new LosantApiError('invalidResponse', `Losant GET ${ROUTES.members}: a member lacks email or role`, { method: 'GET', route: ROUTES.members });
  }
  const member: Member = { email: normalizeEmailForCompare(email), role };
  if (item.userId !== undefined) member.userId = item.userId;
  return member;
}

/** True when a raw answer item's `email` normalises to `wanted` (cheap for ASCII addresses, the common case). */
function rawEmailMatches(item: unknown, wanted: string): boolean {
  if (typeof item !== 'object' || item === null) return false;
  const email = (item as { email?: unknown }).email;
  if (typeof email !== 'string') return false;
  const lower = email.trim().toLowerCase();
  if (lower === wanted) return true;
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(lower) && normalizeEmailForCompare(email) === wanted;
}

/** The invite of exactly that (normalised) email; the newest when there are several. */
function newestByEmail(invites: PendingInvite[], email: string): PendingInvite | undefined {
  let best: PendingInvite | undefined;
  for (const invite of invites) {
    if (invite.email !== email) continue;
    if (!best || Date.parse(invite.inviteDate) > Date.parse(best.inviteDate)) best = invite;
  }
  return best;
}
