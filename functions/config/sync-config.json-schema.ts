// scripts/gen-config-schema.ts, tests --> syncConfigJsonSchema: the zod config schema as JSON Schema, with the descriptions of sync-config.docs.ts
import { z } from 'zod';
import { SyncConfigSchema } from './sync-config.schema.ts';
import { SYNC_CONFIG_DOCS } from './sync-config.docs.ts';

/**
 * JSON Schema of the config file, for editors (`schemas/sync-config.schema.json`): the zod schema's, each node
 * described by SYNC_CONFIG_DOCS. `used` (tests) collects the doc paths that met a node.
 * @example writeFileSync('schemas/sync-config.schema.json', JSON.stringify(syncConfigJsonSchema(), null, 2))
 */
export function syncConfigJsonSchema(used?: Set<string>): Record<string, unknown> {
  return z.toJSONSchema(SyncConfigSchema, {
    io: 'input',
    override: (ctx) => {
      const path = ctx.path.join('/');
      const description = SYNC_CONFIG_DOCS[path];
      if (description === undefined) return;
      ctx.jsonSchema.description = description;
      used?.add(path);
    },
  }) as Record<string, unknown>;
}
