// Errors the domain understands. Adapters throw subclasses of these; the domain never imports adapters.

/** How a call to the invites API failed, independent of HTTP details. */
export type ApiFailureKind =
  | 'unauthorized' // 401: token missing or bad
  | 'forbidden' // 403: token lacks the scope
  | 'notFound' // 404: instance or org (or invite) not found
  | 'badRequest' // 400 and other 4xx refusals: the request itself is wrong
  | 'throttled' // 429 that outlived the retry budget
  | 'server' // 5xx that outlived the retry budget
  | 'network' // connection refused / dropped / timed out, retries exhausted
  | 'deadline' // the caller's deadline came before an answer
  | 'ambiguous' // a POST whose answer was lost and whose effect a lookup did not find (yet): not repeated in this run
  | 'invalidResponse'; // an answer that does not match the published schema

export class ApiError extends Error {
  readonly kind: ApiFailureKind;
  readonly status: number | undefined;
  /** Losant's error `type` (e.g. `NotFound`) when the body had one */
  readonly apiType: string | undefined;
  /** `forbidden`: the narrowest scope the refused call needs (e.g. `instanceOrgInvite.resendInvite`) */
  readonly scope: string | undefined;
  /**
   * True only when no request of the call ever left (it waited for the rate limit, the answer budget or its
   * turn until the deadline): nothing can have taken effect. Absent: it may have.
   */
  readonly notSent: boolean;
  constructor(kind: ApiFailureKind, message: string, opts: { status?: number; apiType?: string; scope?: string; cause?: unknown; notSent?: boolean } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'ApiError';
    this.kind = kind;
    this.status = opts.status;
    this.apiType = opts.apiType;
    this.scope = opts.scope;
    this.notSent = opts.notSent === true;
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

/** Bad input from a user: a config file, a roster, an event. `issues` name the path/line and field. */
export class InputError extends Error {
  readonly issues: { path: string; message: string; line?: number }[];
  constructor(message: string, issues: { path: string; message: string; line?: number }[] = []) {
    super(message);
    this.name = 'InputError';
    this.issues = issues;
  }
}

/**
 * The run's own deadline came before a target was reconciled (report code `deadline`). Not an
 * ApiError: no call to Losant failed; the run ran out of time.
 */
export class RunDeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunDeadlineError';
  }
}

/** The run was asked to stop (SIGINT/SIGTERM in the CLI) before a target was reconciled (report code `interrupted`). */
export class RunInterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunInterruptedError';
  }
}

/** Another run holds the target's lease. */
export class LeaseBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseBusyError';
  }
}

/** A state store write or read failed after its retries. */
export class StateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateError';
  }
}
