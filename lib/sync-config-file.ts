// cdk synth --> readStageSyncConfig --> parseSyncConfigText (the CLI's validation, the CLI's one-line error)
import { readFileSync } from 'node:fs';
import { InputError } from '../functions/sync/errors.ts';
import { parseSyncConfigText, type SyncConfig } from '../functions/config/sync-config.schema.ts';

/**
 * Reads and validates a stage's sync config at synth time, so a bad file stops the deploy before
 * anything reaches AWS. Throws InputError with the same one-line message the CLI prints, e.g.
 * `config/prod.sync.json: targets.0.orgId: must be 24 hexadecimal characters`.
 * @example readStageSyncConfig('/repo/config/dev.sync.json', 'config/dev.sync.json')
 */
export function readStageSyncConfig(file: string, origin = file): SyncConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InputError(`${origin}: cannot read the sync config file (${code})`, [{ path: '(root)', message: code }]);
  }
  return parseSyncConfigText(text, origin);
}
