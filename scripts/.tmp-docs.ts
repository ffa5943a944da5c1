import { z } from 'zod';
import { SyncConfigSchema } from '../functions/config/sync-config.schema.ts';
const docs: Record<string, string> = {};
z.toJSONSchema(SyncConfigSchema, {
  io: 'input',
  override: (ctx) => {
    const d = (ctx.jsonSchema as { description?: string }).description;
    if (d !== undefined) docs[ctx.path.join('/')] = d;
  },
});
console.log(JSON.stringify(docs, null, 2));
