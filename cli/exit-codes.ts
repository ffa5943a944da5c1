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
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** When several apply, the first of 2, 4, 3, 1 wins. */
export function worstExit(codes: ExitCode[]): ExitCode {
  for (const c of [EXIT.badInput, EXIT.couldNotRun, EXIT.blocked, EXIT.failed] as const) if (codes.includes(c)) return c;
  return EXIT.ok;
}

/** An error that ends the command with this exit code and one readable line on stderr. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
