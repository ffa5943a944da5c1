// use case --> InviteApi port --> LosantClient (resource methods) --> Retrier (one retry loop) --> LosantTransport (one attempt) --> Losant REST API
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { CallOptions, CreateInviteResult, InviteApi, Log, NewInvite, OrgSeats } from '../sync/ports.ts';
import type { Member, OrgRole, PendingInvite, TargetRef } from '../sync/types.ts';
import type { OwnUser } from '../sync/offboard.ts';
import { isApiError } from '../sync/errors.ts';
import { maskEmail } from '../sync/email.ts';
import { newestInvite } from '../sync/invites.ts';
import { checkedBody, createdAmong, parseAnswer, parseInviteItem, rawEmailMatches, toMember, toPendingInvite, trustedItems } from './answers.ts';
import { emailNeedles, itemsForEmail, NeedleScan } from './answer-bytes.ts';
import { normalizeEmailForCompare } from './email.ts';
import type { RateGovernor } from './governor.ts';
import { Retrier, type RetryOptions } from './retry.ts';
import { LosantPaths, queryString, ROUTES, type InviteQuery, type RequestSpec } from './routes.ts';
import {
  InstanceOrgMembersSchema, InstanceOrgSchema, MeSchema, OrgInviteCollectionEnvelopeSchema, OrgInviteCollectionSchema, OrgInvitePostSchema, OrgInviteSchema,
  OrgRoleInfoSchema, SuccessSchema,
} from './schemas.ts';
import { LosantTransport, type Answer, type RequestEvent, type TokenProvider } from './transport.ts';

export interface LosantClientOptions {
  /** e.g. `https://api.losant.com` (a path prefix is kept) */
  baseUrl: string;
  token: string | TokenProvider;
  /** default: an undici Agent with keep-alive, `connections` per origin, pipelining 1 (closed by `close()`) */
  dispatcher?: Dispatcher;
  /** most connections the default agent opens to Losant at once (pass the sync config's `concurrency`); default 64 */
  connections?: number;
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
  /** the longest answer body read, bytes (sync config `limits.maxAnswerBytes`); default 64 MiB */
  maxAnswerBytes?: number;
  /** answer bytes on their way at once (answer-budget.ts: pass answerBytesInFlight(memoryMb)); default a 1024 MB function's */
  maxAnswerBytesInFlight?: number;
}

/**
 * The invite a POST created, from its answer without parsing the whole collection: the newest items whose
 * `email` is the address sent, found in the answer's bytes (answer-bytes.ts itemsForEmail: no decode; the
 * transport fed them to the spec's NeedleScan as they came), each checked by createdAmong. Undefined when
 * anything is not certain (an address with escapes or non-ASCII, an item the local read cannot settle, a check
 * failed): the caller then parses the whole answer, which decides (and reports a bad answer) as before, or,
 * when the scan took the body over (it was not kept), looks the invite up by email.
 */
function createdByScan(answer: Answer, sent: { role: OrgRole }, wanted: string, spec: RequestSpec): PendingInvite | undefined {
  const inBytes = answer.watched instanceof NeedleScan ? itemsForEmail(answer.watched) : undefined;
  return inBytes && createdAmong(inBytes, sent, wanted, spec);
}

const sleepReal = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const noopLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/**
 * The Losant invites API over HTTP (undici). Implements the InviteApi port.
 *
 * Retries (see Retrier): GET, DELETE and resend (POST to one invite: resending the same role info
 * twice has no harmful effect, so it counts as idempotent here) are retried on 429, 408, 5xx, dropped
 * connections and timeouts. createInvite is never retried blindly: see its doc. Every wait and
 * request fits before `opts.deadline`.
 * @example
 * const api = new LosantClient({ baseUrl: 'https://api.losant.com', token: () => secrets.token() });
 * const pending = await api.listPending({ instanceId, orgId }, { deadline: Date.now() + 30_000 });
 * await api.close();
 */
export class LosantClient implements InviteApi {
  private readonly transport: LosantTransport;
  private readonly retrier: Retrier;
  private readonly paths: LosantPaths;
  private readonly log: Log;

  constructor(opts: LosantClientOptions) {
    const log = opts.log ?? noopLog;
    const sleep = opts.sleep ?? sleepReal;
    const now = opts.now ?? Date.now;
    this.log = log;
    // the transport's options are the client's own (it ignores `retry` and `random`)
    this.transport = new LosantTransport({ ...opts, log, now, sleep });
    this.retrier = new Retrier({ ...opts.retry, log, sleep, now, random: opts.random ?? Math.random });
    this.paths = new LosantPaths(this.transport.prefix);
  }

  /**
   * GET the pending invites (expired ones included, `hasExpired: true`), emails normalised.
   * @example const pending = await api.listPending(target, { deadline });
   */
  listPending(target: TargetRef, opts: CallOptions = {}): Promise<PendingInvite[]> {
    return this.listInvites(target, {}, opts);
  }

  /**
   * GET invites with Losant's sort and filter parameters (the client's own dialect, not the port's).
   * @example await api.listInvites(target, { filterField: 'email', filter: '*@example.com' })
   */
  async listInvites(target: TargetRef, query: InviteQuery = {}, opts: CallOptions = {}): Promise<PendingInvite[]> {
    const spec: RequestSpec = { method: 'GET', route: ROUTES.invites, path: this.paths.collection(target, 'invites') + queryString(query) };
    const unfiltered = query.filter === undefined || query.filterField === undefined;
    const items = await this.readList(spec, OrgInviteCollectionSchema, opts, unfiltered);
    return items.map((item) => toPendingInvite(item, spec));
  }

  /**
   * GET the org's accepted members, emails normalised.
   * @example const members = await api.listMembers(target, { deadline });
   */
  async listMembers(target: TargetRef, opts: CallOptions = {}): Promise<Member[]> {
    const spec: RequestSpec = { method: 'GET', route: ROUTES.members, path: this.paths.collection(target, 'members') };
    const items = await this.readList(spec, InstanceOrgMembersSchema, opts, true);
    return items.map(toMember);
  }

  /**
   * GET the org: its member limit (`limits.member`; absent or null: no limit). Retried like any GET;
   * a token without `instanceOrg.get` (or broader) fails with `forbidden`, scope `instanceOrg.get`.
   * @example const { memberLimit } = await api.getOrg(target, { deadline });
   */
  async getOrg(target: TargetRef, opts: CallOptions = {}): Promise<OrgSeats> {
    const spec: RequestSpec = { method: 'GET', route: ROUTES.org, path: this.paths.org(target) };
    const org = await this.read(spec, InstanceOrgSchema, opts);
    const limit = org.limits?.member;
    return typeof limit === 'number' ? { memberLimit: limit } : {};
  }

  /**
   * The newest pending invite of exactly that email: looked up with Losant's glob filter, then compared
   * exactly (a `*` in the address must not widen the match); undefined when there is none.
   * @example const mine = await api.findInvite(target, 'ann@example.com', { deadline });
   */
  async findInvite(target: TargetRef, email: string, opts: CallOptions = {}): Promise<PendingInvite | undefined> {
    const wanted = normalizeEmailForCompare(email);
    const invites = await this.listInvites(target, { filterField: 'email', filter: email }, opts);
    return newestInvite(invites.filter((i) => i.email === wanted));
  }

  /**
   * POST one invite. A 429 (refused, no effect) is retried after its Retry-After. A 5xx, timeout or
   * dropped connection leaves it unknown whether the invite was created: after the backoff the
   * email is looked up (findInvite); found → returned with `recovered: true`; not found after a 503
   * (the server did not take the request) → POSTed again within the attempts and the deadline; not
   * found after anything else → fails as `ambiguous`, never POSTed again (the invite may still appear
   * late: the next run after SETTLE_SECONDS adopts it if listed, else invites).
   * @example const { invite, recovered } = await api.createInvite(target, { email: 'ann@example.com', role: 'view' });
   */
  async createInvite(target: TargetRef, invite: NewInvite, opts: CallOptions = {}): Promise<CreateInviteResult> {
    const call = { method: 'POST', route: ROUTES.invites } as const;
    const body = checkedBody(OrgInvitePostSchema, { email: invite.email.trim(), role: invite.role }, call);
    const needles = emailNeedles(body.email);
    // the answer's chunks are searched for the address as they arrive (see createdByScan)
    const spec: RequestSpec = { ...call, path: this.paths.collection(target, 'invites'), body, ...(needles ? { watch: () => new NeedleScan(needles) } : {}) };
    const wanted = normalizeEmailForCompare(body.email);
    return this.retrier.run<CreateInviteResult>(this.transport, spec, opts, {
      onSuccess: async (answer, attempt) => {
        // created; an answer too long to read (or not kept) is no reason to POST again: look the invite up
        const found = answer.cutOff ? undefined : (createdByScan(answer, body, wanted, spec) ?? (answer.taken ? undefined : this.createdByFullParse(answer, wanted, spec, attempt)));
        if (found) return { invite: found, recovered: false };
        // created, but the answer does not list it: ask for it by email
        const looked = await this.findInvite(target, body.email, opts);
        if (looked) return { invite: looked, recovered: false };
        throw this.transport.errors.make('invalidResponse', spec, attempt, 'the answer does not list the new invite and a lookup did not find it', { status: answer.status });
      },
      afterAmbiguous: async (attempt, failure) => {
        const found = await this.findInvite(target, body.email, opts);
        if (!found && failure.status === 503) return undefined;
        if (!found) {
          throw this.transport.errors.make('ambiguous', spec, attempt, 'no answer to the POST and a lookup did not find the invite; not sent again in this run');
        }
        this.log.info('losant invite found after an unanswered POST', { route: spec.route, email: maskEmail(body.email), attempt });
        return { invite: found, recovered: true };
      },
    });
  }

  /**
   * GET one invite by id (the client's own; the sync does not need it).
   * @example const invite = await api.getInvite(target, '575ec8687ae143cd83dc4a97');
   */
  async getInvite(target: TargetRef, inviteId: string, opts: CallOptions = {}): Promise<PendingInvite> {
    const spec: RequestSpec = { method: 'GET', route: ROUTES.invite, path: this.paths.invite(target, inviteId) };
    return toPendingInvite(await this.read(spec, OrgInviteSchema, opts), spec);
  }

  /**
   * POST role info to one invite: Losant resends it (new inviteDate, not expired). Retried like a GET.
   * @example const renewed = await api.resend(target, invite.id, { role: 'view' });
   */
  async resend(target: TargetRef, inviteId: string, roleInfo: { role: OrgRole }, opts: CallOptions = {}): Promise<PendingInvite> {
    const call = { method: 'POST', route: ROUTES.invite } as const;
    const body = checkedBody(OrgRoleInfoSchema, { role: roleInfo.role }, call);
    const spec: RequestSpec = { ...call, path: this.paths.invite(target, inviteId), body };
    return toPendingInvite(await this.read(spec, OrgInviteSchema, opts), spec);
  }

  /**
   * DELETE one invite. Retried like a GET; a 404 after an unanswered attempt counts as revoked
   * (that attempt took effect).
   * @example await api.revoke(target, invite.id);
   */
  async revoke(target: TargetRef, inviteId: string, opts: CallOptions = {}): Promise<void> {
    const spec: RequestSpec = { method: 'DELETE', route: ROUTES.invite, path: this.paths.invite(target, inviteId) };
    await this.retrier.run<unknown>(this.transport, spec, opts, {
      onSuccess: (answer, attempt) => parseAnswer(this.transport.errors, answer, SuccessSchema, spec, attempt),
      // that earlier attempt took effect
      notFoundAfterAmbiguous: () => undefined,
    });
  }

  /**
   * DELETE one org member (policy.removeLeftMembers). Retried like revoke; a 404 after an unanswered
   * attempt counts as removed (that attempt took effect).
   * @example await api.removeMember(target, member.userId);
   */
  async removeMember(target: TargetRef, userId: string, opts: CallOptions = {}): Promise<void> {
    const spec: RequestSpec = { method: 'DELETE', route: ROUTES.member, path: this.paths.member(target, userId) };
    await this.retrier.run<unknown>(this.transport, spec, opts, {
      onSuccess: (answer, attempt) => parseAnswer(this.transport.errors, answer, SuccessSchema, spec, attempt),
      notFoundAfterAmbiguous: () => undefined,
    });
  }

  /**
   * GET /me: the Losant user the token belongs to. `unknown` when Losant refuses it (403: the token
   * lacks `me.get`, `me.*`, `all.User`, `all.User.read` or `all.User.bounded`) or knows no user for it (404); other
   * failures throw as usual.
   * @example const own = await api.ownUser({ deadline });
   */
  async ownUser(opts: CallOptions = {}): Promise<OwnUser> {
    const spec: RequestSpec = { method: 'GET', route: ROUTES.me, path: this.paths.me() };
    try {
      const me = await this.read(spec, MeSchema, opts);
      return { userId: me.id.toLowerCase(), ...(me.email !== undefined ? { email: normalizeEmailForCompare(me.email) } : {}) };
    } catch (err) {
      if (isApiError(err) && (err.kind === 'forbidden' || err.kind === 'notFound')) return 'unknown';
      throw err;
    }
  }

  /** The answer budget's counters: bytes of answers on their way now, the most there were, requests held back. */
  answerBudgetStats(): { bytesInFlight: number; peakBytesInFlight: number; held: number } {
    return this.transport.answerBudget.stats();
  }

  /** Closes the default agent (a dispatcher passed in stays open: its owner closes it). */
  async close(): Promise<void> {
    await this.transport.close();
  }

  /** The newest invite of `wanted` in a POST answer, the whole collection parsed and checked (an invalid item fails the call). */
  private createdByFullParse(answer: { text: string; status: number; cutOff: boolean }, wanted: string, spec: RequestSpec, attempt: number): PendingInvite | undefined {
    const data = parseAnswer(this.transport.errors, answer, OrgInviteCollectionEnvelopeSchema, spec, attempt);
    const mine = (data.items ?? []).filter((i) => rawEmailMatches(i, wanted));
    return newestInvite(mine.map((i) => toPendingInvite(parseInviteItem(this.transport.errors, i, spec, answer.status, attempt), spec)));
  }

  /** A call whose 2xx answer is read with `schema` (retried as the Retrier says). */
  private read<S extends z.ZodType>(spec: RequestSpec, schema: S, opts: CallOptions): Promise<z.infer<S>> {
    return this.retrier.run(this.transport, spec, opts, {
      onSuccess: (answer, attempt) => parseAnswer(this.transport.errors, answer, schema, spec, attempt),
    });
  }

  /** A list call whose items must be whole (see trustedItems). */
  private readList<I>(
    spec: RequestSpec,
    schema: z.ZodType<{ items?: I[] | undefined; count?: number | undefined }>,
    opts: CallOptions,
    unfiltered: boolean,
  ): Promise<I[]> {
    return this.retrier.run(this.transport, spec, opts, {
      onSuccess: (answer, attempt) => {
        const data = parseAnswer(this.transport.errors, answer, schema, spec, attempt);
        return trustedItems(this.transport.errors, data, spec, answer.status, attempt, unfiltered);
      },
    });
  }
}
