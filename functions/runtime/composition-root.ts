// tests, index.handler (every trigger in one process) --> createContainer | getContainer --> host parts + the reconcile function's parts + the HTTP function's parts
//
// The composition root is four modules, so that each deployed function bundles only its own adapters:
// | module                 | builds                                                              | entry               |
// | ---------------------- | ------------------------------------------------------------------- | ------------------- |
// | host-container.ts      | env (read once), config, DynamoDB store, SQS queue, logs, metrics   | (both)              |
// | reconcile-container.ts | + Losant client, S3 drop reader, run events                         | reconcile.handler   |
// | http-container.ts      | + webhook signing key(s), SCIM store, tokens and throttle           | webhook.handler     |
// | composition-root.ts    | all of the above together                                           | index.handler, tests|
import { coldStartOnce, hostParts, type ContainerOverrides } from './host-container.ts';
import { reconcileParts, type ReconcileContainer } from './reconcile-container.ts';
import { httpParts, type HttpContainer } from './http-container.ts';

export { BundledConfigError, type ContainerOverrides, type HostContainer } from './host-container.ts';
export { approveCommandFor, createReconcileContainer, type ReconcileContainer, type RunEvents } from './reconcile-container.ts';
export { createHttpContainer, SCIM_TOKEN_BURST, SCIM_TOKEN_RATE_PER_SECOND, type HttpContainer, type ScimHost } from './http-container.ts';

/**
 * Everything a handler needs, both functions' parts together; built once per process (index.handler,
 * serve, tests). Each deployed function builds only its own part (createReconcileContainer,
 * createHttpContainer), so its bundle carries only the adapters it uses.
 */
export type Container = ReconcileContainer & HttpContainer;

/**
 * Builds the whole container (both functions' parts) from its environment: what tests and a host
 * serving every trigger use. Nothing here calls the network; secrets are fetched on first use.
 * @example const c = await createContainer(process.env)
 */
export async function createContainer(env: Record<string, string | undefined> = process.env, overrides: ContainerOverrides = {}): Promise<Container> {
  const parts = hostParts(env, overrides);
  return { ...parts.host, ...reconcileParts(parts), ...httpParts(parts) };
}

const slot: { current?: Promise<Container> } = {};

/**
 * The cold start's whole container (index.handler.ts: every trigger in one entry), built on the
 * first invocation and reused after; a failed build is retried by the next invocation.
 */
export function getContainer(): Promise<Container> {
  return coldStartOnce(slot, () => createContainer(process.env));
}
