// npm script / CI --> renderStageSchema (zod StageConfigSchema, lib/stages.ts) --> schemas/stage-config.schema.json
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { stageConfigJsonSchema } from '../lib/stages.ts';

/** Where the committed JSON Schema of the stage files lives (config/*.stage.json point at it with `$schema`). */
export const STAGE_SCHEMA_PATH = fileURLToPath(new URL('../schemas/stage-config.schema.json', import.meta.url));

/**
 * The JSON Schema of a stage file as committed: 2-space JSON with a trailing newline.
 * @example await writeFile(STAGE_SCHEMA_PATH, renderStageSchema())
 */
export function renderStageSchema(): string {
  return `${JSON.stringify(stageConfigJsonSchema(), null, 2)}\n`;
}

/** Writes the schema file; with `--check` only reports (exit 1) when the committed file is stale. */
async function main(argv: string[]): Promise<number> {
  const text = renderStageSchema();
  if (argv.includes('--check')) {
    const current = await readFile(STAGE_SCHEMA_PATH, 'utf8').catch(() => '');
    if (current === text) return 0;
    console.error(`${STAGE_SCHEMA_PATH} is stale: run \`node --import tsx scripts/gen-stage-schema.ts\``);
    return 1;
  }
  await writeFile(STAGE_SCHEMA_PATH, text);
  console.log(`wrote ${STAGE_SCHEMA_PATH}`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
