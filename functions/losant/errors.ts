// Losant client --> LosantApiError (an ApiError the domain understands, plus the HTTP details)
//               --> LosantErrors (status / lost answer → failure kind; every text scrubbed of tokens and emails)
import { ApiError, type ApiFailureKind } from '../sync/errors.ts';
import { maskEmails } from '../sync/email.ts';
import { requiredScope } from './routes.ts';
import { LosantErrorBodySchema } from './schemas.ts';

/** An ApiError raised by the Losant client; `method` and `route` name the call (route is a template, no ids or emails). */
export class LosantApiError extends ApiError {
  readonly method: string | undefined;
  readonly route: string | undefined;
  /** HTTP attempts made for this call (0 when it failed before sending) */
  readonly attempts: number;

  constructor(
    kind: ApiFailureKind,
    message: string,
    opts: { status?: number; apiType?: string; scope?: string; cause?: unknown; method?: string; route?: string; attempts?: number } = {},
  ) {
    // a write whose deadline came before its first attempt left (attempts 0) sent nothing; a GET (a lookup made
    // inside a POST, say) never says so, so its failure cannot pass for the POST's
    super(kind, message, { ...opts, notSent: kind === 'deadline' && opts.method !== 'GET' && !opts.attempts });
    this.name = 'LosantApiError';
    this.method = opts.method;
    this.route = opts.route;
    this.attempts = opts.attempts ?? 0;
  }
}

/** Names the call an error belongs to. */
export interface CallName {
  method: string;
  route: string;
}

/** Why an attempt brought no answer (see LosantTransport). */
export type NoAnswerReason = 'timeout' | 'network' | 'deadline' | 'aborted';

export interface ErrorExtra {
  status?: number;
  apiType?: string;
  scope?: string;
  cause?: unknown;
}

/**
 * Builds the client's errors. Error texts may quote an answer: every message passes `scrub`, which
 * masks emails and removes the secrets `secrets()` names (the tokens in use) and any bearer value.
 * @example const errors = new LosantErrors(() => [token]); throw errors.make('badRequest', spec, 1, 'answered 400');
 */
export class LosantErrors {
  constructor(private readonly secrets: () => readonly (string | undefined)[]) {}

  make(kind: ApiFailureKind, call: CallName, attempt: number, text: string, extra: ErrorExtra = {}): LosantApiError {
    const message = this.scrub(`Losant ${call.method} ${call.route}: ${text}`);
    return new LosantApiError(kind, message, { ...extra, method: call.method, route: call.route, attempts: Math.max(0, attempt) });
  }

  /** Maps an HTTP answer that is not a success to the domain's failure kinds, with Losant's error type and message. */
  fromStatus(call: CallName, status: number, body: string, attempt: number): LosantApiError {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    const error = LosantErrorBodySchema.safeParse(parsed);
    const apiType = error.success ? error.data.type : undefined;
    const apiMessage = error.success ? error.data.message : undefined;
    const detail = [apiType, apiMessage].filter((s) => s !== undefined && s !== '').join(': ');
    const text = `answered ${status}${detail ? ` ${detail}` : ''}`;
    const scope = status === 403 ? requiredScope(call) : undefined;
    return this.make(kindOfStatus(status), call, attempt, text, {
      status,
      ...(apiType === undefined ? {} : { apiType: this.scrub(apiType) }),
      ...(scope === undefined ? {} : { scope }),
    });
  }

  /** Maps an attempt that brought no answer. */
  fromNoAnswer(call: CallName, reason: NoAnswerReason, cause: unknown, attempt: number, timeoutMs: number): LosantApiError {
    switch (reason) {
      case 'aborted':
        return this.make('deadline', call, attempt, 'the call was aborted', { cause });
      case 'deadline':
        return this.make('deadline', call, attempt, 'deadline reached while waiting for the answer', { cause });
      case 'timeout':
        return this.make('network', call, attempt, `no answer within ${timeoutMs} ms`, { cause });
      default:
        return this.make('network', call, attempt, `connection failed (${errorCode(cause) ?? (cause instanceof Error ? cause.name : 'error')})`, { cause });
    }
  }

  /** Never lets a token or a whole email through. */
  scrub(text: string): string {
    let out = maskEmails(text);
    for (const secret of this.secrets()) {
      if (secret) out = out.split(secret).join('***');
    }
    return out.replace(/(bearer\s+)\S+/gi, '$1***');
  }
}

/** The failure kind of a status that is not a success. */
function kindOfStatus(status: number): ApiFailureKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'notFound';
  if (status === 429) return 'throttled';
  if (status >= 500 || status === 408) return 'server';
  if (status >= 200 && status < 300) return 'invalidResponse';
  return 'badRequest';
}

/**
 * The first string `code` along an error's cause chain (undici and Node put it on the error or its cause).
 * @example errorCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })) // 'ECONNREFUSED'
 */
export function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
