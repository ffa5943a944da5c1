// tests --> the published Losant JSON Schemas (schemas/losant, draft-07): the oracle for every API answer
import { readFileSync, readdirSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule.default;
const SCHEMA_DIR = new URL('../../schemas/losant/', import.meta.url);

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'))) {
  ajv.addSchema(JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as object, file);
}

/** What Losant adds to answers when asked for `_links=true` (as its own clients always ask): not in the published schemas. */
const HAL_KEYS = new Set(['_type', '_links']);

/**
 * `data` without the `_type` and `_links` keys at any depth (the published schemas say
 * `additionalProperties: false` where the real API sends them).
 * @example withoutHal({ id: 'x', _type: 'orgInvite' }) // { id: 'x' }
 */
export function withoutHal(data: unknown): unknown {
  if (Array.isArray(data)) return data.map(withoutHal);
  if (typeof data !== 'object' || data === null) return data;
  return Object.fromEntries(Object.entries(data).filter(([k]) => !HAL_KEYS.has(k)).map(([k, v]) => [k, withoutHal(v)]));
}

/**
 * Validates `data` (its `_type` / `_links` aside, see withoutHal) against a published schema by file
 * name; returns the errors (empty when valid).
 * @example validateAgainst('orgInvite.json', invite) // []
 */
export function validateAgainst(schemaFile: string, data: unknown): string[] {
  const validate = ajv.getSchema(schemaFile);
  if (!validate) throw new Error(`no published schema named ${schemaFile} in schemas/losant`);
  if (validate(withoutHal(data))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'} ${JSON.stringify(e.params)}`);
}

/**
 * Throws, listing the errors, unless `data` is valid against the published schema.
 * @example expectValid('orgInviteCollection.json', await res.json());
 */
export function expectValid(schemaFile: string, data: unknown): void {
  const errors = validateAgainst(schemaFile, data);
  if (errors.length > 0) throw new Error(`not valid against ${schemaFile}:\n  ${errors.join('\n  ')}\n${JSON.stringify(data, null, 2).slice(0, 2000)}`);
}
