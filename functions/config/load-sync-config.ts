// CLI / Lambda composition root / cdk synth --> readSyncConfigFile (the one reader) --> parseSyncConfigText --> SyncConfig
import { readFileSync } from 'node:fs';
import { InputError } from '../sync/errors.ts';
import { parseSyncConfigText, type SyncConfig } from './sync-config.schema.ts';

/** The sync config file itself could not be read (missing, a directory, no permission). */
export class SyncConfigFileError extends InputError {
  /** the errno code, e.g. `ENOENT` */
  readonly code: string;
  constructor(origin: string, why: string, code: string, options?: { cause?: unknown }) {
    super(`${origin}: ${why}`, [{ path: '(file)', message: why }]);
    this.name = 'SyncConfigFileError';
    this.code = code;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * Reads and validates a sync config file (JSON, a leading BOM ignored): the one reader the CLI,
 * the Lambda and `cdk synth` share, so a file passes or fails all three alike. Every failure is an
 * InputError whose one line names `origin`: SyncConfigFileError for a missing or unreadable file
 * (`<origin>: file not found`), else bad JSON or the first field that fails SyncConfigSchema
 * (`<origin>: targets.0.orgId: must be 24 hexadecimal characters`).
 * @example const config = readSyncConfigFile('/repo/config/dev.sync.json', 'config/dev.sync.json')
 */
export function readSyncConfigFile(path: string, origin = path): SyncConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read the file (${code})`;
    throw new SyncConfigFileError(origin, why, code, { cause: err });
  }
  return parseSyncConfigText(text, origin);
}

/**
 * readSyncConfigFile for async callers (the CLI commands).
 * @example const config = await loadSyncConfigFile('examples/sync-config.json')
 */
export async function loadSyncConfigFile(path: string, origin = path): Promise<SyncConfig> {
  return readSyncConfigFile(path, origin);
}
