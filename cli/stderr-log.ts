// CLI --> Log port: human-readable lines on stderr, emails masked, secrets never passed in.
import type { Log } from '../functions/sync/ports.ts';
import { maskEmails } from '../functions/sync/email.ts';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export function isLogLevel(v: string | undefined): v is LogLevel {
  return v !== undefined && v in LEVELS;
}

/**
 * A Log that writes `level message key=value …` to a stream (stderr by default), masking every email.
 * @example const log = createStderrLog('info'); log.info('run started', { runId })
 */
export function createStderrLog(level: LogLevel = 'warn', write: (line: string) => void = (l) => process.stderr.write(l)): Log {
  const min = LEVELS[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, message: string, extra?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    const fields = extra
      ? Object.entries(extra)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ')
      : '';
    write(maskEmails(`${lvl} ${message}${fields ? ` ${fields}` : ''}`) + '\n');
  };
  return {
    debug: (m, e) => emit('debug', m, e),
    info: (m, e) => emit('info', m, e),
    warn: (m, e) => emit('warn', m, e),
    error: (m, e) => emit('error', m, e),
  };
}
