// CLI plan/apply --> watchSignals: SIGINT/SIGTERM ask the run to stop (no new POSTs; in-flight ones finish,
// progress is recorded, the lease released, the JVM stopped); the exit code is then 130 / 143.
// A second signal exits at once (the JVM goes with the process's exit handler or its watchdog).
import type { RunReport } from '../functions/sync/types.ts';
import { EXIT, worstExit, type ExitCode } from './exit-codes.ts';
import { targetExit } from './report.ts';

export interface SignalWatch {
  /** aborted by the first SIGINT or SIGTERM */
  signal: AbortSignal;
  /** the signal received, if any */
  received(): NodeJS.Signals | null;
  /** the run's exit code: with a signal received, its 130/143 in place of the interrupted targets' 4 */
  exitCode(report: RunReport, runExit: number): number;
  /** removes the handlers */
  dispose(): void;
}

/** 130 for SIGINT, 143 for SIGTERM. */
export function signalExit(sig: NodeJS.Signals): ExitCode {
  return sig === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
}

/**
 * Starts listening for SIGINT and SIGTERM.
 * @example const stop = watchSignals(); runSync(…, { stop: stop.signal }); return stop.exitCode(report, runExit(report));
 */
export function watchSignals(opts: { onFirst?: (sig: NodeJS.Signals) => void } = {}): SignalWatch {
  const controller = new AbortController();
  let received: NodeJS.Signals | null = null;
  const handler = (sig: NodeJS.Signals) => {
    if (received) {
      process.stderr.write(`invite-sync: second ${sig}: exiting without waiting\n`);
      process.exit(signalExit(sig));
    }
    received = sig;
    opts.onFirst?.(sig);
    process.stderr.write(`invite-sync: ${sig}: finishing the requests in flight, then stopping (again to exit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', handler).on('SIGTERM', handler);
  return {
    signal: controller.signal,
    received: () => received,
    exitCode(report, runExit) {
      if (!received) return runExit;
      const others = report.targets.filter((t) => t.error?.code !== 'interrupted').map(targetExit);
      return worstExit([...others, signalExit(received)]);
    },
    dispose() {
      process.off('SIGINT', handler).off('SIGTERM', handler);
    },
  };
}
