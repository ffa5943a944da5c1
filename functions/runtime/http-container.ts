// webhook.handler (HTTP API: webhook, SCIM) --> getHttpContainer (once per cold start) --> host parts + webhook signing key, SCIM store/tokens/throttle
import { CachedSecret, type SecretSource } from '../secrets/secrets-manager.ts';
import { secretScimAuth, SCIM_TOKEN_REFRESH_MS, TokenThrottle, type ScimAuth } from '../scim/auth.ts';
import type { ScimStore } from '../scim/ports.ts';
import { scimStoreOf } from '../state/scim-store.ts';
import { coldStartOnce, hostParts, type ContainerOverrides, type HostContainer, type HostParts } from './host-container.ts';

/** What the SCIM endpoint needs of its host. */
export interface ScimHost {
  store: ScimStore;
  auth: ScimAuth;
  /** per-token request budget; absent: none */
  throttle?: TokenThrottle;
  /** largest answer body (scim.handler.ts MAX_SCIM_ANSWER_BYTES when absent) */
  maxAnswerBytes?: number;
}

/** Per-token SCIM budget in the function (the API stage's `scimThrottle` limits the route as a whole). */
export const SCIM_TOKEN_RATE_PER_SECOND = 20;
export const SCIM_TOKEN_BURST = 40;

/** The HTTP function's container (signed webhook, SCIM): it never calls Losant. */
export interface HttpContainer extends HostContainer {
  /** space-separated `whsec_…` keys (several during a rotation) */
  webhookSecret: SecretSource;
  /** the SCIM endpoint (/scim/v2); absent: SCIM is off (404) */
  scim?: ScimHost;
}

/** The webhook signing key(s) and, with SCIM_TOKEN_SECRET_ARN, the SCIM endpoint's store, tokens and throttle (secrets fetched on first use). */
export function httpParts({ env: e, host, store, secretOpts }: HostParts): Omit<HttpContainer, keyof HostContainer> {
  const { clock } = host;
  return {
    webhookSecret: new CachedSecret({ secretId: e.WEBHOOK_SECRET_ARN, label: 'webhook signing key', ...secretOpts }),
    ...(e.SCIM_TOKEN_SECRET_ARN
      ? {
          scim: {
            store: scimStoreOf(store),
            auth: secretScimAuth(new CachedSecret({ secretId: e.SCIM_TOKEN_SECRET_ARN, label: 'SCIM tokens', minRefreshIntervalMs: SCIM_TOKEN_REFRESH_MS, ...secretOpts })),
            throttle: new TokenThrottle({ ratePerSecond: SCIM_TOKEN_RATE_PER_SECOND, burst: SCIM_TOKEN_BURST, now: () => clock.now() }),
          },
        }
      : {}),
  };
}

/**
 * The HTTP function's container from its environment: the shared parts, the webhook signing key(s)
 * and SCIM (no Losant client, no S3 drops, no run events: the reconcile function's, reconcile-container.ts).
 * @example const c = await createHttpContainer(process.env)
 */
export async function createHttpContainer(env: Record<string, string | undefined> = process.env, overrides: ContainerOverrides = {}): Promise<HttpContainer> {
  const parts = hostParts(env, overrides);
  return { ...parts.host, ...httpParts(parts) };
}

const slot: { current?: Promise<HttpContainer> } = {};

/**
 * The HTTP function's cold-start container (webhook.handler.ts), built on the first invocation and
 * reused after; a failed build is retried by the next invocation.
 */
export function getHttpContainer(): Promise<HttpContainer> {
  return coldStartOnce(slot, () => createHttpContainer(process.env));
}
