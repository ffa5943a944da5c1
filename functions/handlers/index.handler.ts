// local hosts and tests (every trigger in one process) --> handler: HTTP --> webhook | SCIM, anything else --> reconcile.handler
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { getContainer, type Container } from '../runtime/composition-root.ts';
import { handleHttp } from './webhook.handler.ts';
import { dispatchReconcile } from './reconcile.handler.ts';
import { detectTrigger } from './trigger-kind.ts';

export { detectTrigger, type TriggerKind } from './trigger-kind.ts';

/**
 * Dispatches one invocation to its trigger's handler, HTTP included: what the two deployed functions
 * do between them (webhook.handler.ts for HTTP, reconcile.handler.ts for the rest), in one entry. An
 * event of no known shape is logged (its top-level keys only) and rejected with UnknownEventError.
 * @example await dispatch(event, context, container)
 */
export async function dispatch(event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>, deps: Container): Promise<unknown> {
  if (detectTrigger(event) === 'http') return handleHttp(event as APIGatewayProxyEventV2, deps);
  return dispatchReconcile(event, context, deps);
}

/** Every trigger in one entry (HTTP API, schedule, HR bus, SQS, S3 roster drops); the stack deploys the two split entries. */
export const handler = async (event: unknown, context: Context): Promise<unknown> => dispatch(event, context, await getContainer());
