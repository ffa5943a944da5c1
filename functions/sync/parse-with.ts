// config file / HR event / person --> parseWith (zod safeParse) --> the value, or one InputError naming the first bad field
import type { z } from 'zod';
import { InputError } from './errors.ts';

/** One problem of a document: the field's path (`targets.0.orgId`, `(root)`) and what is wrong. */
export interface Issue {
  path: string;
  message: string;
}

/**
 * `a.b.0` style path of a zod issue; `(root)` for the document itself, `""` for an empty key.
 * @example issuePath(['targets', 0, 'orgId']) // 'targets.0.orgId'
 */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.length ? path.map((k) => (k === '' ? '""' : String(k))).join('.') : '(root)';
}

/**
 * Zod issues as InputError issues; an unknown key becomes one issue on that key's own path
 * (`extra: unknown field`).
 */
export function inputIssues(error: z.ZodError): Issue[] {
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: issuePath([...i.path, k]), message: 'unknown field' }))
      : [{ path: issuePath(i.path), message: i.message }],
  );
}

/**
 * Validates `doc` with `schema`. On failure throws InputError whose message names the first bad
 * field (`<origin>: <path>: <message>`, or `<path>: <message>` without an origin) and whose
 * `issues` list every problem.
 * @example const config = parseWith(SyncConfigSchema, JSON.parse(text), 'config.json')
 */
export function parseWith<S extends z.ZodType>(schema: S, doc: unknown, origin?: string): z.output<S> {
  const result = schema.safeParse(doc);
  if (result.success) return result.data;
  const issues = inputIssues(result.error);
  const first = issues[0] ?? { path: '(root)', message: 'invalid' };
  throw new InputError(`${origin !== undefined ? `${origin}: ` : ''}${first.path}: ${first.message}`, issues);
}
