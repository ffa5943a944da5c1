// SCIM request --> ScimAuth: `Authorization: Bearer <token>` --> the token's source (constant-time compare)
// Deployed: Secrets Manager value `[{ "token", "source" }]`, refetched at most once per 60 s when no token
// matches (a rotation). serve: SCIM_TOKEN, one or more space-separated tokens feeding source `scim`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecretSource } from '../secrets/secrets-manager.ts';
import { SOURCE_NAME, SOURCE_NAME_MESSAGE } from '../sync/sources.ts';

/** Shortest token accepted (a guessable token would open the roster). */
export const MIN_SCIM_TOKEN_LENGTH = 24;
/** The source SCIM_TOKEN tokens feed. */
export const SERVE_SCIM_SOURCE = 'scim';
/** How often a token that matches nothing may trigger a refetch of the secret. */
export const SCIM_TOKEN_REFRESH_MS = 60_000;

export interface ScimTokenEntry {
  token: string;
  source: string;
}

/** Who a request authenticated as: the token's source and a short id of the token (for throttling; not the token). */
export interface ScimCaller {
  source: string;
  tokenId: string;
}

/** The SCIM tokens cannot be read or are not usable (names what is wrong, never a token). */
export class ScimTokenConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScimTokenConfigError';
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** A short, stable id of a token for logs and throttling: its sha256 prefix, not the token. */
export const tokenIdOf = (token: string): string => digest(token).toString('hex').slice(0, 12);

function checkToken(token: string, where: string): void {
  if (token.length < MIN_SCIM_TOKEN_LENGTH) throw new ScimTokenConfigError(`${where}: a token is shorter than ${MIN_SCIM_TOKEN_LENGTH} characters`);
  if (/\s/.test(token)) throw new ScimTokenConfigError(`${where}: a token contains whitespace`);
}

/**
 * SCIM_TOKEN: one or more tokens separated by whitespace, each ≥ 24 characters, all feeding source `scim`.
 * @example parseServeScimTokens('s3cr3t-0123456789abcdefghij') // [{ token: 's3cr3t-…', source: 'scim' }]
 */
export function parseServeScimTokens(value: string): ScimTokenEntry[] {
  const tokens = value.split(/\s+/).filter((t) => t.length > 0);
  if (tokens.length === 0) throw new ScimTokenConfigError('SCIM_TOKEN holds no token');
  tokens.forEach((t, i) => {
    if (t.length < MIN_SCIM_TOKEN_LENGTH) throw new ScimTokenConfigError(`SCIM_TOKEN: token ${i + 1} is ${t.length} characters; each must be at least ${MIN_SCIM_TOKEN_LENGTH}`);
  });
  return tokens.map((token) => ({ token, source: SERVE_SCIM_SOURCE }));
}

/**
 * The SCIM token secret: a JSON array of `{ "token", "source" }` (token ≥ 24 characters, source a source name).
 * @example parseScimTokenSecret('[{"token":"…","source":"okta"}]')
 */
export function parseScimTokenSecret(value: string): ScimTokenEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    throw new ScimTokenConfigError('SCIM token secret: not JSON (expected [{ "token", "source" }])');
  }
  if (!Array.isArray(doc) || doc.length === 0) throw new ScimTokenConfigError('SCIM token secret: expected a non-empty array of { "token", "source" }');
  return doc.map((e: unknown, i) => {
    const entry = e as { token?: unknown; source?: unknown } | null;
    if (entry === null || typeof entry !== 'object' || typeof entry.token !== 'string' || typeof entry.source !== 'string') {
      throw new ScimTokenConfigError(`SCIM token secret: entry ${i + 1} must be { "token": string, "source": string }`);
    }
    checkToken(entry.token, `SCIM token secret entry ${i + 1}`);
    if (!SOURCE_NAME.test(entry.source)) throw new ScimTokenConfigError(`SCIM token secret entry ${i + 1}: source ${SOURCE_NAME_MESSAGE}`);
    return { token: entry.token, source: entry.source };
  });
}

/** The bearer token of an Authorization header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** Which entry `token` is: every entry compared (sha256 digests, timingSafeEqual), so the time says nothing. */
function match(entries: readonly ScimTokenEntry[], token: string): ScimTokenEntry | undefined {
  const given = digest(token);
  let found: ScimTokenEntry | undefined;
  for (const e of entries) if (timingSafeEqual(digest(e.token), given) && found === undefined) found = e;
  return found;
}

/** Authenticates SCIM requests. */
export interface ScimAuth {
  /** the caller, or null when the header carries no token that matches */
  authenticate(authorization: string | undefined): Promise<ScimCaller | null>;
}

/**
 * Tokens from a fixed list (serve: SCIM_TOKEN).
 * @example staticScimAuth(parseServeScimTokens(process.env.SCIM_TOKEN!))
 */
export function staticScimAuth(entries: readonly ScimTokenEntry[]): ScimAuth {
  return {
    authenticate(authorization) {
      const token = bearerToken(authorization);
      const hit = token === undefined ? undefined : match(entries, token);
      return Promise.resolve(hit ? { source: hit.source, tokenId: tokenIdOf(hit.token) } : null);
    },
  };
}

/**
 * Tokens from a secret (deployed): parsed on first use; a token that matches nothing refetches the
 * secret at most once per 60 s (the SecretSource's own limit is set by the composition root).
 * A secret that cannot be parsed throws ScimTokenConfigError (the handler answers 503, never 401).
 */
export function secretScimAuth(secret: SecretSource): ScimAuth {
  let cached: { raw: string; entries: ScimTokenEntry[] } | undefined;
  const entriesOf = (raw: string): ScimTokenEntry[] => {
    if (cached?.raw !== raw) cached = { raw, entries: parseScimTokenSecret(raw) };
    return cached.entries;
  };
  return {
    async authenticate(authorization) {
      const token = bearerToken(authorization);
      if (token === undefined) return null;
      const raw = await secret.get();
      let hit = match(entriesOf(raw), token);
      if (!hit) {
        const fresh = await secret.get({ refresh: true });
        if (fresh !== raw) hit = match(entriesOf(fresh), token);
      }
      return hit ? { source: hit.source, tokenId: tokenIdOf(hit.token) } : null;
    },
  };
}

/** Per-token request budget: a token bucket of `burst` requests refilled at `ratePerSecond`. */
export class TokenThrottle {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(opts: { ratePerSecond: number; burst: number; now?: () => number }) {
    this.#rate = opts.ratePerSecond;
    this.#burst = opts.burst;
    this.#now = opts.now ?? Date.now;
  }

  /** true when the request may go ahead (and takes one from the bucket); false: answer 429 */
  take(tokenId: string): boolean {
    const now = this.#now();
    const b = this.#buckets.get(tokenId) ?? { tokens: this.#burst, at: now };
    b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#rate);
    b.at = now;
    this.#buckets.set(tokenId, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** seconds until the next request of this token would pass (Retry-After) */
  retryAfterSeconds(tokenId: string): number {
    const b = this.#buckets.get(tokenId);
    if (!b || b.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - b.tokens) / this.#rate));
  }
}
