// CLI approve --> callerArn --> STS GetCallerIdentity: who approves, recorded with the approval (best effort)
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

/** How long the approver's identity may take before approve goes on without it (ms). */
export const CALLER_TIMEOUT_MS = 5000;

/**
 * The ARN of the AWS identity the CLI runs as, or undefined when STS cannot say (no credentials, no
 * network, over CALLER_TIMEOUT_MS): an approval is never held up by it.
 * @example await callerArn('eu-west-1') // 'arn:aws:sts::123456789012:assumed-role/operator/jane'
 */
export async function callerArn(region: string | undefined, client?: STSClient): Promise<string | undefined> {
  const sts = client ?? new STSClient({ ...(region ? { region } : {}), maxAttempts: 1, requestHandler: { connectionTimeout: 2000, requestTimeout: 3000 } });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), CALLER_TIMEOUT_MS)));
    const out = await Promise.race([sts.send(new GetCallerIdentityCommand({})), timeout]);
    return out?.Arn || undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    if (!client) sts.destroy();
  }
}
