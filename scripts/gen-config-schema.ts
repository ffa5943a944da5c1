// npm script / CI --> renderConfigSchema (zod SyncConfigSchema) --> schemas/sync-config.schema.json
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { syncConfigJsonSchema } from '../functions/config/sync-config.json-schema.ts';

/** Where the committed JSON Schema lives (examples point at it with `$schema`). */
export const CONFIG_SCHEMA_PATH = fileURLToPath(new URL('../schemas/sync-config.schema.json', import.meta.url));

/**
 * The JSON Schema of the sync config as committed: 2-space JSON with a trailing newline.
 * @example await writeFile(CONFIG_SCHEMA_PATH, renderConfigSchema())
 */
export function renderConfigSchema(): string {
  return `${JSON.stringify(syncConfigJsonSchema(), null, 2)}\n`;
}

/** Writes the schema file; with `--check` only reports (exit 1) when the committed file is stale. */
async function main(argv: string[]): Promise<number> {
  const text = renderConfigSchema();
  if (argv.includes('--check')) {
    const current = await readFile(CONFIG_SCHEMA_PATH, 'utf8').catch(() => '');
    if (current === text) return 0;
    console.error(`${CONFIG_SCHEMA_PATH} is stale: run \`node --import tsx scripts/gen-config-schema.ts\``);
    return 1;
  }
  await writeFile(CONFIG_SCHEMA_PATH, text);
  console.log(`wrote ${CONFIG_SCHEMA_PATH}`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
