// composition root --> CachedSecret --> Secrets Manager GetSecretValue (cached per cold start, refetched on rotation)
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../sync/ports.ts';
import { systemClock } from '../sync/ports.ts';

/** A secret value that can be refetched when the cached one stopped working (rotation). */
export interface SecretSource {
  /** the cached value; `refresh: true` fetches it again (at most once per refresh interval) */
  get(opts?: { refresh?: boolean }): Promise<string>;
}

/** A secret could not be read or has no usable value. Never carries the value. */
export class SecretError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretError';
  }
}

export interface CachedSecretOptions {
  /** ARN or name */
  secretId: string;
  /** for messages: `Losant API token`, `webhook signing key` */
  label: string;
  client?: SecretsManagerClient;
  clock?: Clock;
  /**
   * A refresh within this many ms of the last fetch returns the cached value: a flood of forged
   * webhooks or a token Losant keeps refusing cannot turn into a flood of Secrets Manager calls.
   * @default 30000
   */
  minRefreshIntervalMs?: number;
}

/**
 * A Secrets Manager secret (plain `SecretString`, trimmed), fetched on first use and cached for the
 * life of the container. Concurrent callers share one fetch.
 * @example const token = new CachedSecret({ secretId: arn, label: 'Losant API token' }); await token.get()
 */
export class CachedSecret implements SecretSource {
  readonly #opts: Required<Omit<CachedSecretOptions, 'client'>>;
  #client: SecretsManagerClient | undefined;
  #value: Promise<string> | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;

  constructor(opts: CachedSecretOptions) {
    this.#opts = { secretId: opts.secretId, label: opts.label, clock: opts.clock ?? systemClock, minRefreshIntervalMs: opts.minRefreshIntervalMs ?? 30_000 };
    this.#client = opts.client;
  }

  get(opts: { refresh?: boolean } = {}): Promise<string> {
    const now = this.#opts.clock.now();
    const canRefresh = now - this.#fetchedAt >= this.#opts.minRefreshIntervalMs;
    if (!this.#value || (opts.refresh && canRefresh)) {
      this.#fetchedAt = now;
      const fetching = this.#fetch();
      this.#value = fetching;
      // a failed fetch is not cached: the next call tries again
      fetching.catch(() => {
        if (this.#value === fetching) this.#value = undefined;
      });
    }
    return this.#value;
  }

  async #fetch(): Promise<string> {
    const { secretId, label } = this.#opts;
    this.#client ??= new SecretsManagerClient({});
    let secret: string | undefined;
    try {
      const out = await this.#client.send(new GetSecretValueCommand({ SecretId: secretId }));
      secret = out.SecretString;
    } catch (err) {
      const name = (err as { name?: string }).name ?? 'Error';
      const hint = name === 'ResourceNotFoundException' ? ' (has a value been put into it? aws secretsmanager put-secret-value)' : '';
      throw new SecretError(`could not read the ${label} secret: ${name}${hint}`, { cause: err });
    }
    const value = secret?.trim() ?? '';
    if (!value) throw new SecretError(`the ${label} secret is empty (put the value with aws secretsmanager put-secret-value)`);
    return value;
  }
}

/**
 * A fixed value (serve, tests): `refresh` changes nothing.
 * @example staticSecret(process.env.WEBHOOK_SECRET!)
 */
export function staticSecret(value: string): SecretSource {
  return { get: () => Promise.resolve(value) };
}
