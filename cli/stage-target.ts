// CLI --stage <name> --> resolveStageTarget: the deployed table and reconcile queue of stack InviteSync-<stage>
// (CloudFormation DescribeStacks outputs TableName / ReconcileQueueUrl), or STATE_TABLE / RECONCILE_QUEUE_URL;
// the region from config/<stage>.stage.json, else AWS_REGION.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { z } from 'zod';
import { CliError, EXIT } from './exit-codes.ts';

/** Where the stage files are: the package's config/ directory. */
export const CLI_STAGE_DIR = fileURLToPath(new URL('../config/', import.meta.url));

/** The same rule lib/stages.ts applies to stage names. */
const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** The part of a stage file the CLI reads (tolerant: every other field is ignored). */
const StageRegionSchema = z.object({ region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as us-east-1') });

/** A stage's table and queue, and where they were found. */
export interface StageTarget {
  stage: string;
  region: string | undefined;
  tableName: string;
  /** absent when neither the stack nor RECONCILE_QUEUE_URL names one */
  queueUrl?: string;
  /** `stack InviteSync-<stage>` or `STATE_TABLE` */
  source: string;
}

export interface ResolveStageOptions {
  env: NodeJS.ProcessEnv;
  /** a client to ask instead of one built for the stage's region (tests point one at a local server) */
  cloudFormation?: CloudFormationClient;
  /** where `<stage>.stage.json` is; default CLI_STAGE_DIR */
  stageDir?: string;
}

/** `InviteSync-<stage>`, as lib/build-app.ts names the stack. */
export const stackNameFor = (stage: string): string => `InviteSync-${stage}`;

/**
 * The region of a stage: `region` of `<stageDir>/<stage>.stage.json`, else AWS_REGION, else undefined
 * (the SDK's own lookup). A stage file whose region is invalid is exit 2 naming the field.
 */
export function stageRegion(stage: string, env: NodeJS.ProcessEnv, stageDir = CLI_STAGE_DIR): string | undefined {
  const file = join(stageDir, `${stage}.stage.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return env.AWS_REGION || undefined;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`, EXIT.badInput, { code: 'stage' });
  }
  const parsed = StageRegionSchema.safeParse(doc);
  if (!parsed.success) throw new CliError(`${file}: region ${parsed.error.issues[0]?.message ?? 'is invalid'}`, EXIT.badInput, { code: 'stage' });
  return parsed.data.region;
}

/**
 * Resolves `--stage <name>`: STATE_TABLE (with RECONCILE_QUEUE_URL) when set, else the outputs of stack
 * `InviteSync-<stage>` (TableName, ReconcileQueueUrl). Exit 2 for a bad stage name, exit 4 when the
 * stack cannot be described or lacks the TableName output.
 * @example const t = await resolveStageTarget('prod', { env: process.env }) // { tableName: 'InviteSync-prod-StateTable…', queueUrl: 'https://sqs…', … }
 */
export async function resolveStageTarget(stage: string, opts: ResolveStageOptions): Promise<StageTarget> {
  if (!STAGE_NAME.test(stage)) throw new CliError(`--stage must be a stage name such as dev or prod (lowercase letters, digits, -), got "${stage}"`, EXIT.badInput, { code: 'usage' });
  const region = stageRegion(stage, opts.env, opts.stageDir);
  const queueFromEnv = opts.env.RECONCILE_QUEUE_URL || undefined;
  if (opts.env.STATE_TABLE) {
    return { stage, region, tableName: opts.env.STATE_TABLE, ...(queueFromEnv ? { queueUrl: queueFromEnv } : {}), source: 'STATE_TABLE' };
  }
  const stackName = stackNameFor(stage);
  const client = opts.cloudFormation ?? new CloudFormationClient(region ? { region } : {});
  let outputs: Map<string, string>;
  try {
    const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    if (!stack) throw new Error('no such stack');
    outputs = new Map((stack.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue] as const] : [])));
  } catch (err) {
    throw new CliError(`could not describe stack ${stackName}${region ? ` in ${region}` : ''}: ${(err as Error).message}; deploy the stage, check AWS credentials (the operator policy grants cloudformation:DescribeStacks), or set STATE_TABLE and RECONCILE_QUEUE_URL`, EXIT.couldNotRun, { code: 'stage' });
  } finally {
    if (!opts.cloudFormation) client.destroy();
  }
  const tableName = outputs.get('TableName');
  if (!tableName) throw new CliError(`stack ${stackName} has no TableName output: deploy the current invite-sync, or set STATE_TABLE`, EXIT.couldNotRun, { code: 'stage' });
  const queueUrl = queueFromEnv ?? outputs.get('ReconcileQueueUrl');
  return { stage, region, tableName, ...(queueUrl ? { queueUrl } : {}), source: `stack ${stackName}` };
}

/**
 * The environment createCliRuntime reads for a resolved stage: STATE_TABLE, and AWS_REGION when known
 * (not with DYNAMODB_ENDPOINT: a local endpoint keeps the region it was given, DynamoDB Local keeps tables per region).
 * @example createCliRuntime({ env: stageEnv(await resolveStageTarget('prod', { env }), env), needsLosant: false })
 */
export function stageEnv(target: StageTarget, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, STATE_TABLE: target.tableName, ...(target.region && !env.DYNAMODB_ENDPOINT ? { AWS_REGION: target.region } : {}) };
}
