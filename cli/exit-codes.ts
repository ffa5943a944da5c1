// The CLI's exit codes: a public interface (users script against them).
export const EXIT = {
  ok: 0,
  /** some actions failed */
  failed: 1,
  /** bad input or config */
  badInput: 2,
  /** blocked by a safety brake (plan too, when apply would be blocked) */
  blocked: 3,
  /** could not run: lease busy, Losant 401/403 or unreachable, deadline hit before completion */
  couldNotRun: 4,
  /** apply --plan: the saved plan is stale (a fresh plan of its inputs differs); nothing changed */
  stalePlan: 5,
  /** stopped by SIGINT (128 + 2) */
  interrupted: 130,
  /** stopped by SIGTERM (128 + 15) */
  terminated: 143,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Which exit code wins when several apply: 2, 5, 4, 130/143, 3, 1. */
export const EXIT_PRECEDENCE: readonly ExitCode[] = [EXIT.badInput, EXIT.stalePlan, EXIT.couldNotRun, EXIT.interrupted, EXIT.terminated, EXIT.blocked, EXIT.failed];

/**
 * The exit code of several outcomes: the first of EXIT_PRECEDENCE present, else 0.
 * @example worstExit([EXIT.failed, EXIT.blocked]) // 3
 */
export function worstExit(codes: ExitCode[]): ExitCode {
  for (const c of EXIT_PRECEDENCE) if (codes.includes(c)) return c;
  return EXIT.ok;
}

/** The `code` of the `--json` error object for an exit code. */
export function errorCodeOf(exit: ExitCode): string {
  switch (exit) {
    case EXIT.badInput:
      return 'badInput';
    case EXIT.stalePlan:
      return 'stalePlan';
    case EXIT.couldNotRun:
      return 'couldNotRun';
    case EXIT.blocked:
      return 'blocked';
    case EXIT.interrupted:
    case EXIT.terminated:
      return 'interrupted';
    default:
      return 'failed';
  }
}

/** An error that ends the command with this exit code and one readable line on stderr. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** the `--json` error code (default: errorCodeOf(exitCode)) */
  readonly code: string;
  /** more keys of the `--json` error object (e.g. planHash, freshPlanHash) */
  readonly details: Record<string, unknown>;
  constructor(message: string, exitCode: ExitCode, opts: { code?: string; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.code = opts.code ?? errorCodeOf(exitCode);
    this.details = opts.details ?? {};
  }
}
