// process.env --> LambdaEnvSchema --> LambdaEnv (read once per cold start by the composition root)
import { z } from 'zod';
import { METRICS_NAMESPACE, SERVICE_NAME } from './metric-names.ts';

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL'] as const;

const required = (what: string) => z.string({ error: `required (${what})` }).trim().min(1, `required (${what})`);

/**
 * The Lambda's environment as the CDK stack sets it. Unknown variables are ignored
 * (the runtime sets dozens); the POWERTOOLS_* ones are optional with the project's defaults.
 */
export const LambdaEnvSchema = z.object({
  STAGE: required('the stage name'),
  STATE_TABLE: required('the DynamoDB table name'),
  LOSANT_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('https://api.losant.com'),
  LOSANT_TOKEN_SECRET_ARN: required('Secrets Manager ARN of the Losant API token'),
  WEBHOOK_SECRET_ARN: required('Secrets Manager ARN of the whsec_ signing key(s)'),
  RECONCILE_QUEUE_URL: z.url({ protocol: /^https?$/, error: 'must be the SQS queue URL' }),
  /** where notable runs put their `Sync Run Completed` event (the CDK sets `default`); unset: no events */
  RUN_EVENT_BUS: z.string().trim().min(1).optional(),
  /** Secrets Manager ARN of the SCIM tokens (`[{ "token", "source" }]`); unset: /scim/v2 answers 404 */
  SCIM_TOKEN_SECRET_ARN: z.string().trim().min(1).optional(),
  /** set by the Lambda runtime: the function's memory (MB), which bounds the roster drops it reads */
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: z.coerce.number().int().positive().optional(),
  /** relative to LAMBDA_TASK_ROOT, or absolute */
  SYNC_CONFIG_FILE: z.string().trim().min(1).default('sync-config.json'),
  LAMBDA_TASK_ROOT: z.string().min(1).optional(),
  POWERTOOLS_SERVICE_NAME: z.string().min(1).default(SERVICE_NAME),
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1).default(METRICS_NAMESPACE),
  POWERTOOLS_LOG_LEVEL: z
    .string()
    .transform((s) => s.trim().toUpperCase())
    .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }))
    .optional(),
});
export type LambdaEnv = z.infer<typeof LambdaEnvSchema>;

/** The environment is missing or has a bad variable. Names the variables, never their values. */
export class EnvironmentError extends Error {
  readonly variables: string[];
  constructor(message: string, variables: string[], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvironmentError';
    this.variables = variables;
  }
}

/**
 * Validates the Lambda environment.
 * @example const env = parseLambdaEnv(process.env) // throws EnvironmentError naming e.g. STATE_TABLE
 */
export function parseLambdaEnv(env: Record<string, string | undefined>): LambdaEnv {
  const result = LambdaEnvSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => ({ name: String(i.path[0] ?? '(env)'), message: i.message }));
  const text = problems.map((p) => `${p.name}: ${p.message}`).join('; ');
  throw new EnvironmentError(`bad Lambda environment: ${text}`, problems.map((p) => p.name), { cause: result.error });
}
