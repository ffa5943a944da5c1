// composition root / serve --> HandlerLog (Powertools Logger or a wrapped Log) --> masked JSON / stderr lines
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import type { Log } from '../sync/ports.ts';
import { maskEmails } from '../sync/email.ts';

/** The Log port plus correlation keys (Powertools Logger satisfies it). */
export interface HandlerLog extends Log {
  /** keys added to every following line until removed (e.g. runId, eventId) */
  appendKeys(keys: Record<string, unknown>): void;
  removeKeys(keys: string[]): void;
}

/** Field names whose values never reach a log line, whatever they hold. */
const SENSITIVE_KEY = /authori[sz]ation|token|secret|password|signature|cookie|api[-_]?key/i;
export const REDACTED = '[redacted]';

/**
 * JSON replacer for log records: masks every email in every string (message, extra fields,
 * error messages and stacks) and redacts fields named like credentials.
 * @example JSON.stringify({ message: 'a@b.com', token: 'x' }, maskingReplacer) // {"message":"a***@b***.com","token":"[redacted]"}
 */
export function maskingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && SENSITIVE_KEY.test(key) && value !== null && value !== undefined && typeof value !== 'boolean') return REDACTED;
  if (typeof value === 'string') return maskEmails(value);
  return value;
}

export interface LambdaLoggerOptions {
  serviceName: string;
  /** Powertools level name; default INFO */
  level?: LogLevel;
  /** keys on every line (e.g. the stage) */
  persistentKeys?: Record<string, string>;
}

/**
 * The Lambda's logger: Powertools JSON lines on stdout, emails masked and credential-named fields
 * redacted in every message and extra field.
 * @example const log = createLambdaLogger({ serviceName: 'invite-sync', persistentKeys: { stage: 'dev' } })
 */
export function createLambdaLogger(opts: LambdaLoggerOptions): HandlerLog {
  const logger = new Logger({
    serviceName: opts.serviceName,
    logLevel: opts.level ?? 'INFO',
    jsonReplacerFn: maskingReplacer,
    ...(opts.persistentKeys ? { persistentKeys: opts.persistentKeys } : {}),
  });
  return powertoolsLog(logger);
}

/** Adapts a Powertools Logger to the HandlerLog port. */
export function powertoolsLog(logger: Logger): HandlerLog {
  return {
    debug: (m, e) => (e ? logger.debug(m, e) : logger.debug(m)),
    info: (m, e) => (e ? logger.info(m, e) : logger.info(m)),
    warn: (m, e) => (e ? logger.warn(m, e) : logger.warn(m)),
    error: (m, e) => (e ? logger.error(m, e) : logger.error(m)),
    appendKeys: (keys) => logger.appendKeys(keys),
    removeKeys: (keys) => logger.removeKeys(keys),
  };
}

/**
 * Gives a plain Log (e.g. the CLI's stderr log) correlation keys: appended keys are merged into
 * every line's extra fields.
 * @example const log = keyedLog(createStderrLog('info')); log.appendKeys({ runId })
 */
export function keyedLog(log: Log): HandlerLog {
  const keys: Record<string, unknown> = {};
  const merged = (extra?: Record<string, unknown>) => (Object.keys(keys).length ? { ...keys, ...extra } : extra);
  return {
    debug: (m, e) => log.debug(m, merged(e)),
    info: (m, e) => log.info(m, merged(e)),
    warn: (m, e) => log.warn(m, merged(e)),
    error: (m, e) => log.error(m, merged(e)),
    appendKeys: (more) => Object.assign(keys, more),
    removeKeys: (names) => {
      for (const n of names) delete keys[n];
    },
  };
}
