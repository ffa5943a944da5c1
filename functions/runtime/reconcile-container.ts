// reconcile.handler (schedule, HR bus, queue, S3 drops) --> getReconcileContainer (once per cold start) --> host parts + Losant client, S3 drop reader, run events
import type { InviteApi } from '../sync/ports.ts';
import { LosantClient } from '../losant/client.ts';
import { CachedSecret } from '../secrets/secrets-manager.ts';
import { EventBridgeRunNotifier } from '../notify/eventbridge-notifier.ts';
import { S3DropReader } from '../drops/s3-drop-reader.ts';
import { maxDropBytes, type DropReader } from '../sync/drops.ts';
import type { RunNotifier } from '../sync/run-events.ts';
import { coldStartOnce, hostParts, type ContainerOverrides, type HostContainer, type HostParts } from './host-container.ts';

/** The Sync Run Completed announcements of a host. */
export interface RunEvents {
  notifier: RunNotifier;
  /** what an operator runs to approve a blocked run of this stage */
  approveCommand: (runId: string) => string;
}

/** The reconcile function's container (schedule, HR bus, reconcile queue, S3 drops): it alone calls Losant. */
export interface ReconcileContainer extends HostContainer {
  api: InviteApi;
  /** where notable runs are announced, and the approve command their events carry; absent: no events */
  runEvents?: RunEvents;
  /** reads roster file drops (S3 ObjectCreated notifications); absent: the host takes no drops */
  drops?: DropReader;
}

/**
 * The approve command a blocked run's event carries: the CLI against the stage (its table and queue
 * come from the stack's outputs), so the approval queues the target at once.
 * @example approveCommandFor('prod')('r-1') // 'invite-sync approve --stage prod --run r-1'
 */
export const approveCommandFor =
  (stage: string) =>
  (runId: string): string =>
    `invite-sync approve --stage ${stage} --run ${runId}`;

/** The Losant client (its token from Secrets Manager, fetched on first use), the S3 drop reader and the run events. */
export function reconcileParts({ env: e, host, secretOpts, overrides }: HostParts): Omit<ReconcileContainer, keyof HostContainer> {
  const losantToken = new CachedSecret({ secretId: e.LOSANT_TOKEN_SECRET_ARN, label: 'Losant API token', ...secretOpts });
  const { config, log } = host;
  return {
    api: new LosantClient({ baseUrl: e.LOSANT_API_URL, token: (o?: { refresh?: boolean }) => losantToken.get(o), log, maxAnswerBytes: config.limits.maxAnswerBytes, connections: config.concurrency }),
    drops: new S3DropReader({ maxBytes: maxDropBytes(e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE), ...(overrides.s3Client ? { client: overrides.s3Client } : {}) }),
    ...(e.RUN_EVENT_BUS
      ? {
          runEvents: {
            notifier: new EventBridgeRunNotifier({ busName: e.RUN_EVENT_BUS, log, ...(overrides.eventBridgeClient ? { client: overrides.eventBridgeClient } : {}) }),
            approveCommand: approveCommandFor(e.STAGE),
          },
        }
      : {}),
  };
}

/**
 * The reconcile function's container from its environment: the shared parts, the Losant client, S3
 * drops and run events (no webhook key, no SCIM: the HTTP function's, http-container.ts).
 * @example const c = await createReconcileContainer(process.env)
 */
export async function createReconcileContainer(env: Record<string, string | undefined> = process.env, overrides: ContainerOverrides = {}): Promise<ReconcileContainer> {
  const parts = hostParts(env, overrides);
  return { ...parts.host, ...reconcileParts(parts) };
}

const slot: { current?: Promise<ReconcileContainer> } = {};

/**
 * The reconcile function's cold-start container (reconcile.handler.ts and its trigger handlers), built
 * on the first invocation and reused after; a failed build is retried by the next invocation.
 */
export function getReconcileContainer(): Promise<ReconcileContainer> {
  return coldStartOnce(slot, () => createReconcileContainer(process.env));
}
