// CLI / composition root --> loadSyncConfigFile (reads the file) --> parseSyncConfigText --> SyncConfig
import { readFile } from 'node:fs/promises';
import { InputError } from '../sync/errors.ts';
import { parseSyncConfigText, type SyncConfig } from './sync-config.schema.ts';

/**
 * Reads and validates a sync config file (JSON). Every failure is an InputError naming the path:
 * a missing or unreadable file, bad JSON, or a document that fails SyncConfigSchema.
 * @example const config = await loadSyncConfigFile('examples/sync-config.json')
 */
export async function loadSyncConfigFile(path: string): Promise<SyncConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read the file (${code ?? 'unknown error'})`;
    throw new InputError(`${path}: ${why}`, [{ path: '(file)', message: why }]);
  }
  // a BOM (some Windows editors write one) is not JSON
  return parseSyncConfigText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, path);
}
