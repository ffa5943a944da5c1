// retry loop --> LosantTransport.send: ONE attempt (deadline check, governor, token, request with a timeout, body read) --> undici
import { Agent, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import type { CallOptions, Log } from '../sync/ports.ts';
import { LOSANT_REQUEST_TIMEOUT_MS } from '../sync/ownership.ts';
import { DEFAULT_MAX_ANSWER_BYTES } from './answers.ts';
import { AnswerBudget, answerBytesInFlight } from './answer-budget.ts';
import { errorCode, LosantErrors, type NoAnswerReason } from './errors.ts';
import { AdaptiveRateGovernor, type RateGovernor } from './governor.ts';
import type { ChunkWatch, RequestSpec } from './routes.ts';

/** Supplies the bearer token; `refresh: true` asks for a fresh one (after a 401, e.g. a rotated secret). */
export type TokenProvider = (opts?: { refresh?: boolean }) => Promise<string>;

/** One HTTP exchange, for metrics and benchmarks. `status` is 0 when no answer came (network error, timeout). */
export interface RequestEvent {
  method: string;
  route: string;
  status: number;
  ms: number;
}

/** An attempt that brought an HTTP answer (any status). `token` is the one it was sent with. */
export interface Answer {
  ok: true;
  status: number;
  /** parsed Retry-After of a 429, ms from the answer */
  retryAfterMs: number | undefined;
  /** the body as text (UTF-8), decoded on first read; '' when it was cut off */
  readonly text: string;
  /** the body's bytes as received (chunks kept, not copied, not decoded); empty when it was cut off */
  readonly chunks: readonly Buffer[];
  /** the spec's `watch` of this attempt, fed every chunk read (also those of a body then cut off) */
  watched?: ChunkWatch;
  /** the watcher took the body over (ChunkWatch.push): `chunks` is empty and `text` '' although the body was read */
  taken?: boolean;
  /** the body was longer than `maxAnswerBytes`: reading stopped there and the connection was closed */
  cutOff: boolean;
  /** the body's length in bytes (as far as it was read) */
  bytes?: number;
  token: string;
}

/** An attempt without an answer; `sent: false` when the connection was never made (no effect possible). */
export interface NoAnswer {
  ok: false;
  reason: NoAnswerReason;
  sent: boolean;
  cause: unknown;
}

export type Outcome = Answer | NoAnswer;

export interface TransportOptions {
  /** e.g. `https://api.losant.com` (a path prefix is kept: see `prefix`) */
  baseUrl: string;
  token: string | TokenProvider;
  /** default: an undici Agent with keep-alive, `connections` per origin, pipelining 1 (closed by `close()`) */
  dispatcher?: Dispatcher;
  /**
   * most connections the default agent keeps to the origin (the sync passes its `concurrency`, so connections opened
   * stay ≤ concurrency + retries on new connections: undici otherwise opens a new one when a freed connection is not
   * yet marked idle); default 64
   */
  connections?: number;
  /** per attempt, capped by the time left before the call's deadline; default 10_000 */
  requestTimeoutMs?: number;
  /** default: an AdaptiveRateGovernor on the same clock */
  governor?: RateGovernor;
  /** the longest answer body read, bytes; a longer one is cut off there (memory stays bounded); default 64 MiB */
  maxAnswerBytes?: number;
  /** answer bytes on their way at once (answer-budget.ts); default answerBytesInFlight() of a 1024 MB function */
  maxAnswerBytesInFlight?: number;
  log: Log;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  onRequest?: (e: RequestEvent) => void;
}

/** Errors raised before any byte left: the request cannot have had an effect. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * One HTTP attempt at a time against one Losant origin: it owns the connection pool, the token and
 * the pacing. It never retries; it reports what happened as an `Outcome`, and throws only when no
 * attempt may start (deadline passed, aborted, pacing past the deadline, no token).
 * @example const outcome = await transport.send({ method: 'GET', route, path }, { deadline }, 1);
 */
export class LosantTransport {
  /** the base URL's path, without a trailing slash ('' for none) */
  readonly prefix: string;
  readonly requestTimeoutMs: number;
  readonly maxAnswerBytes: number;
  readonly errors: LosantErrors;
  private readonly origin: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly tokenSource: string | TokenProvider;
  private tokenPromise: Promise<string> | undefined;
  /** the token last used, so error texts can be scrubbed of it */
  private lastToken: string | undefined;
  private readonly governor: RateGovernor;
  private readonly log: Log;
  private readonly now: () => number;
  private readonly onRequest: ((e: RequestEvent) => void) | undefined;
  readonly answerBudget: AnswerBudget;

  constructor(opts: TransportOptions) {
    const base = new URL(opts.baseUrl);
    this.origin = base.origin;
    this.prefix = base.pathname.replace(/\/+$/, '');
    this.ownsDispatcher = opts.dispatcher === undefined;
    this.dispatcher = opts.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, connections: Math.max(1, opts.connections ?? 64), pipelining: 1 });
    this.tokenSource = opts.token;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? LOSANT_REQUEST_TIMEOUT_MS;
    this.maxAnswerBytes = opts.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
    this.answerBudget = new AnswerBudget(opts.maxAnswerBytesInFlight ?? answerBytesInFlight());
    this.log = opts.log;
    this.now = opts.now;
    this.governor = opts.governor ?? new AdaptiveRateGovernor({ now: opts.now, sleep: opts.sleep });
    this.onRequest = opts.onRequest;
    this.errors = new LosantErrors(() => [typeof this.tokenSource === 'string' ? this.tokenSource : undefined, this.lastToken]);
  }

  /** One HTTP exchange: deadline check, pacing, token, request with a timeout, body read. */
  async send(spec: RequestSpec, opts: CallOptions, attempt: number): Promise<Outcome> {
    this.checkStart(spec, opts, attempt);
    await this.governor.acquire(opts.deadline).catch((err: unknown) => {
      throw this.errors.make('deadline', spec, attempt - 1, 'deadline reached while waiting for the rate limit', { cause: err });
    });
    const path = spec.path.split('?')[0] ?? spec.path;
    const booked = await this.answerBudget.acquire(path, this.now, opts.deadline, opts.signal).catch((err: unknown) => {
      throw this.errors.make('deadline', spec, attempt - 1, 'deadline reached while earlier answers held the memory for this one', { cause: err });
    });
    let answerBytes: number | undefined;
    try {
      this.checkStart(spec, opts, attempt);
      const outcome = await this.exchange(spec, opts, attempt);
      if (outcome.ok) answerBytes = outcome.bytes;
      return outcome;
    } finally {
      this.answerBudget.release(path, booked, answerBytes, spec.method === 'GET' && /[?&]filter=/.test(spec.path));
    }
  }

  /** The request and its answer, once pacing and the answer budget let it start. */
  private async exchange(spec: RequestSpec, opts: CallOptions, attempt: number): Promise<Outcome> {
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
      const watched = spec.watch?.();
      const read = await readAtMost(res.body, this.maxAnswerBytes, res.headers['content-length'], watched);
      status = res.statusCode;
      const retryAfterMs = status === 429 ? parseRetryAfter(res.headers['retry-after'], this.now()) : undefined;
      this.governor.onResponse(status, retryAfterMs);
      const chunks = read?.chunks ?? [];
      let text: string | undefined;
      return {
        ok: true, status, retryAfterMs, chunks, cutOff: read === undefined, bytes: read?.bytes ?? this.maxAnswerBytes, token, ...(watched ? { watched, taken: read?.taken } : {}),
        get text() {
          return (text ??= decodeUtf8(chunks));
        },
      };
    } catch (err) {
      if (opts.signal?.aborted) return { ok: false, reason: 'aborted', sent: true, cause: opts.signal.reason };
      if (timer.signal.aborted) return { ok: false, reason: byDeadline ? 'deadline' : 'timeout', sent: true, cause: err };
      return { ok: false, reason: 'network', sent: !NOT_SENT_CODES.has(errorCode(err) ?? ''), cause: err };
    } finally {
      clearTimeout(timeout);
      this.onRequest?.({ method: spec.method, route: spec.route, status, ms: Math.round(performance.now() - started) });
    }
  }

  /** True when a 401 can be answered with a fresh token (the token is a provider, not a fixed string). */
  canRefresh(): boolean {
    return typeof this.tokenSource === 'function';
  }

  /** After a 401: fetch a fresh token once, unless another call already replaced the one that failed. */
  async refreshToken(failed: string, spec: RequestSpec, attempt: number): Promise<void> {
    const source = this.tokenSource;
    if (typeof source === 'string') return;
    const current = await this.tokenPromise?.catch(() => undefined);
    if (current !== undefined && current !== failed) return;
    this.log.info('losant token refused: fetching a fresh one', { method: spec.method, route: spec.route });
    this.tokenPromise = source({ refresh: true });
    await this.getToken(spec, attempt);
  }

  /** Closes the default agent (a dispatcher passed in stays open: its owner closes it). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.destroy();
  }

  private checkStart(spec: RequestSpec, opts: CallOptions, attempt: number): void {
    if (opts.signal?.aborted) throw this.errors.make('deadline', spec, attempt - 1, 'the call was aborted', { cause: opts.signal.reason });
    if (opts.deadline !== undefined && this.now() >= opts.deadline) {
      throw this.errors.make('deadline', spec, attempt - 1, 'deadline reached before the request could start');
    }
  }

  private async getToken(spec: RequestSpec, attempt: number): Promise<string> {
    if (typeof this.tokenSource === 'string') return this.tokenSource;
    const source = this.tokenSource;
    this.tokenPromise ??= source();
    try {
      return await this.tokenPromise;
    } catch (err) {
      this.tokenPromise = undefined;
      throw this.errors.make('unauthorized', spec, attempt - 1, 'could not obtain the Losant token', { cause: err });
    }
  }
}

/**
 * Destroys a body not read to its end, which closes its connection. undici's body then emits
 * `RequestAbortedError`; with no reader listening that would be an uncaught exception that ends the process.
 */
function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

/**
 * Reads a body to its end, or undefined once it is longer than `max` bytes (announced or received): then
 * reading stops and the body is destroyed, which closes the connection. The chunks are kept as they came
 * (no copy, no decode), each handed to `watch` as it comes (a POST answer is searched while its bytes are in
 * cache, answer-bytes.ts), which may take the body over: then none is kept here. Holds at most `max` bytes
 * (plus one chunk) in memory. A body shorter than its Content-Length, or chunked without its end, fails
 * here: undici errors the stream.
 */
async function readAtMost(
  body: Readable,
  max: number,
  contentLength: string | string[] | undefined,
  watch: ChunkWatch | undefined,
): Promise<{ chunks: Buffer[]; bytes: number; taken: boolean } | undefined> {
  const announced = Number(Array.isArray(contentLength) ? contentLength[0] : contentLength);
  if (Number.isFinite(announced) && announced > max) {
    discard(body);
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let taken = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size + chunk.length > max) {
      discard(body);
      return undefined;
    }
    size += chunk.length;
    if (watch?.push(chunk)) {
      // the watcher keeps what it needs from here on: drop what was kept here, once
      if (!taken) chunks.length = 0;
      taken = true;
    } else if (!taken) chunks.push(chunk);
  }
  return { chunks, bytes: size, taken };
}

/** The chunks as one UTF-8 text (one copy when there are several). */
function decodeUtf8(chunks: readonly Buffer[]): string {
  if (chunks.length === 0) return '';
  if (chunks.length === 1) return chunks[0]!.toString('utf8');
  return Buffer.concat(chunks).toString('utf8');
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
