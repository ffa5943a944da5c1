// CLI plan --out / apply --plan --> the saved plan file: actions, hashes and the inputs they came from (mode 0600)
import { createHash } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { RunReport } from '../functions/sync/types.ts';
import { InputError } from '../functions/sync/errors.ts';
import { toJson } from './report.ts';

export const SAVED_PLAN_FORMAT = 'invite-sync/plan/v1';

const InputFileSchema = z.object({ path: z.string().min(1), sha256: z.string().regex(/^[a-f\d]{64}$/) });

/** What `apply --plan` reads back: only `format`, `planHash` and `inputs` are trusted; `targets` is for people to read. */
export const SavedPlanSchema = z.looseObject({
  format: z.literal(SAVED_PLAN_FORMAT),
  createdAt: z.string(),
  planHash: z.string().regex(/^[a-f\d]{64}$/),
  inputs: z.object({
    config: InputFileSchema,
    roster: InputFileSchema.optional(),
    source: z.string().min(1),
    force: z.boolean(),
  }),
  targets: z.array(z.looseObject({ name: z.string(), planHash: z.string().optional() })),
});
export type SavedPlan = z.infer<typeof SavedPlanSchema>;

/**
 * sha256 (hex) of a file's bytes.
 * @example await fileSha256('config.json')
 */
export async function fileSha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/**
 * One hash for a whole run's plan: every target's name and plan hash, in config order. A target
 * without a plan hash (it could not be planned) makes the run's plan unusable: null.
 * @example runPlanHash(report) === saved.planHash
 */
export function runPlanHash(report: Pick<RunReport, 'targets'>): string | null {
  const h = createHash('sha256').update(`${SAVED_PLAN_FORMAT}\n`);
  for (const t of report.targets) {
    if (!t.planHash) return null;
    h.update(`${t.name}\u0000${t.planHash}\n`);
  }
  return h.digest('hex');
}

export interface SavedPlanInputs {
  configPath: string;
  rosterPath?: string;
  source: string;
  force: boolean;
}

/**
 * Writes the plan file with mode 0600 (also when it existed with a wider mode).
 * @returns the run's plan hash
 */
export async function writeSavedPlan(file: string, report: RunReport, inputs: SavedPlanInputs, now: number): Promise<string> {
  const planHash = runPlanHash(report);
  if (planHash === null) throw new InputError(`${file}: not written: a target could not be planned`);
  const json = JSON.parse(toJson(report)) as { targets: unknown[] };
  const doc = {
    format: SAVED_PLAN_FORMAT,
    createdAt: new Date(now).toISOString(),
    planHash,
    inputs: {
      config: { path: resolve(inputs.configPath), sha256: await fileSha256(inputs.configPath) },
      ...(inputs.rosterPath ? { roster: { path: resolve(inputs.rosterPath), sha256: await fileSha256(inputs.rosterPath) } } : {}),
      source: inputs.source,
      force: inputs.force,
    },
    targets: json.targets,
  };
  await writeFile(file, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return planHash;
}

/**
 * Reads a plan file written by `plan --out`. Throws InputError naming the file and the bad field.
 * @example const saved = await readSavedPlan('plan.json'); saved.inputs.config.path
 */
export async function readSavedPlan(file: string): Promise<SavedPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read the saved plan: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file}: the saved plan is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = SavedPlanSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${file}: not a saved plan of this invite-sync: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
