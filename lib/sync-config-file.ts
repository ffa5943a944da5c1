// cdk synth --> readStageSyncConfig --> readSyncConfigFile (the CLI's and the Lambda's reader, the CLI's one-line error)
import { readSyncConfigFile } from '../functions/config/load-sync-config.ts';
import type { SyncConfig } from '../functions/config/sync-config.schema.ts';

/**
 * Reads and validates a stage's sync config at synth time, so a bad file stops the deploy before
 * anything reaches AWS. The same reader as the CLI's (a BOM is ignored alike); throws InputError
 * with the same one-line message the CLI prints, e.g.
 * `config/prod.sync.json: targets.0.orgId: must be 24 hexadecimal characters`.
 * @example readStageSyncConfig('/repo/config/dev.sync.json', 'config/dev.sync.json')
 */
export function readStageSyncConfig(file: string, origin = file): SyncConfig {
  return readSyncConfigFile(file, origin);
}
