// Losant client --> LosantApiError (an ApiError the domain understands, plus the HTTP details)
import { ApiError, type ApiFailureKind } from '../sync/errors.ts';

/** An ApiError raised by the Losant client; `method` and `route` name the call (route is a template, no ids or emails). */
export class LosantApiError extends ApiError {
  readonly method: string | undefined;
  readonly route: string | undefined;
  /** HTTP attempts made for this call (0 when it failed before sending) */
  readonly attempts: number;

  constructor(
    kind: ApiFailureKind,
    message: string,
    opts: { status?: number; apiType?: string; cause?: unknown; method?: string; route?: string; attempts?: number } = {},
  ) {
    super(kind, message, opts);
    this.name = 'LosantApiError';
    this.method = opts.method;
    this.route = opts.route;
    this.attempts = opts.attempts ?? 0;
  }
}
