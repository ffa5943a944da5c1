// chaos / security tests --> helpers: seeded faults, an order-checking proxy, table scans, leak checks (the CLI runner: cli.ts)
import { createServer, request as httpRequest, Agent as HttpAgent, type IncomingMessage, type ServerResponse } from 'node:http';
import { format } from 'node:util';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  ScanCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mulberry32 } from '../../emulator/faults.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { keys } from '../../functions/state/keys.ts';
import type { StateStore } from '../../functions/sync/ports.ts';
import type { TargetRef } from '../../functions/sync/types.ts';

/** `INVITE_SYNC_CHAOS=full` (set by `npm run test:chaos`) runs the full counts; otherwise the CI counts. */
export const CHAOS_FULL = process.env.INVITE_SYNC_CHAOS === 'full';

/**
 * The CI count or the full count, by mode.
 * @example const invites = chaosCount(120, 300)
 */
export function chaosCount(ci: number, full: number): number {
  return CHAOS_FULL ? full : ci;
}

/**
 * A seeded PRNG in [0, 1) (the emulator's mulberry32): the same seed replays the same chaos.
 * @example const rnd = seededRandom(7); rnd() // 0.…
 */
export function seededRandom(seed: number): () => number {
  return mulberry32(seed);
}

// ------------------------------------------------------------------ emulator figures

const INVITES_ROUTE = '/instances/:instanceId/orgs/:orgId/invites';

/** POST /invites answers by status (0 = answer lost), and every injected or limiting answer by status. */
export interface FaultFigures {
  posts: Record<string, number>;
  /** all routes: 429 (rate limit), 503 (injected), 0 (answer lost after the effect) */
  injected: { rateLimited: number; unavailable: number; lost: number };
  requests: number;
  duplicateInvites: number;
}

/**
 * Sums the emulator's stats into the figures a chaos test reports (no emails in them).
 * @example console.log(JSON.stringify(faultFigures(emulator)))
 */
export function faultFigures(emulator: RunningEmulator): FaultFigures {
  const stats = emulator.stats();
  const posts: Record<string, number> = {};
  const injected = { rateLimited: 0, unavailable: 0, lost: 0 };
  let requests = 0;
  for (const r of stats.requests) {
    requests += r.count;
    if (r.method === 'POST' && r.route === INVITES_ROUTE) posts[String(r.status)] = (posts[String(r.status)] ?? 0) + r.count;
    if (r.status === 429) injected.rateLimited += r.count;
    if (r.status === 503) injected.unavailable += r.count;
    if (r.status === 0) injected.lost += r.count;
  }
  return { posts, injected, requests, duplicateInvites: stats.duplicateInvites };
}

/** How many pending invites each (lower-cased) email has in the emulator. */
export function inviteCounts(emulator: RunningEmulator, target: TargetRef): Map<string, number> {
  const counts = new Map<string, number>();
  for (const inv of emulator.invites(target.instanceId, target.orgId)) {
    const email = inv.email.toLowerCase();
    counts.set(email, (counts.get(email) ?? 0) + 1);
  }
  return counts;
}

/**
 * Problems between the ledger and Losant: a `sent` entry whose inviteId Losant does not list for that
 * email (or lists for another). Empty when they agree.
 */
export async function ledgerDisagreements(store: StateStore, emulator: RunningEmulator, target: TargetRef): Promise<string[]> {
  const byId = new Map(emulator.invites(target.instanceId, target.orgId).map((i) => [i.id, i.email.toLowerCase()]));
  const problems: string[] = [];
  for (const entry of await store.getLedger(target)) {
    if (entry.state !== 'sent') continue;
    const listed = entry.inviteId === undefined ? undefined : byId.get(entry.inviteId);
    if (listed !== entry.email) problems.push(`ledger #${problems.length + 1}: sent entry's inviteId is ${listed === undefined ? 'not listed' : 'listed for another email'}`);
  }
  return problems;
}

// ------------------------------------------------------------------ order-checking proxy

export interface PostArrival {
  email: string;
  /** epoch ms when the POST reached the proxy */
  at: number;
  /** the ledger state of that email in the table at that moment (`missing`: no item) */
  ledgerState: string;
}

export interface IntentProxy {
  /** base URL to give the Losant client instead of the emulator's */
  url: string;
  /** every POST /invites that passed, in arrival order */
  posts: PostArrival[];
  close(): Promise<void>;
}

const POST_INVITES = /^\/instances\/[^/]+\/orgs\/[^/]+\/invites\/?$/;

/**
 * An HTTP proxy in front of the emulator that, before it forwards a POST /invites, reads that
 * email's ledger item from the table with a second, fault-free DynamoDB client (consistent read).
 * A POST that arrives while the item is missing was sent before its intent was durable.
 * A lost upstream answer is passed on as a dropped connection.
 * @example const proxy = await startIntentProxy({ upstream: emu.url, client, tableName, target });
 */
export async function startIntentProxy(opts: { upstream: string; client: DynamoDBClient; tableName: string; target: TargetRef }): Promise<IntentProxy> {
  const upstream = new URL(opts.upstream);
  const doc = DynamoDBDocumentClient.from(opts.client);
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const posts: PostArrival[] = [];

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host }, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    out.on('error', () => res.destroy());
    out.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = new URL(req.url ?? '/', 'http://proxy.invalid').pathname;
      if (req.method !== 'POST' || !POST_INVITES.test(path)) return forward(req, res, body);
      const at = Date.now();
      let email = '';
      try {
        email = String((JSON.parse(body.toString('utf8')) as { email?: unknown }).email ?? '').trim().toLowerCase();
      } catch {
        email = '';
      }
      doc
        .send(new GetCommand({ TableName: opts.tableName, Key: keys.ledger(opts.target, email), ConsistentRead: true }))
        .then(
          (got) => posts.push({ email, at, ledgerState: typeof got.Item?.state === 'string' ? got.Item.state : 'missing' }),
          () => posts.push({ email, at, ledgerState: 'unreadable' }),
        )
        .finally(() => forward(req, res, body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ------------------------------------------------------------------ DynamoDB faults

export interface DynamoFaultOptions {
  seed: number;
  /** share of calls that fail with a throttling error before they are sent (the SDK retries these) */
  throttleRate?: number;
  /** throttle only these commands (e.g. `['BatchWriteItemCommand']`); default every command */
  throttleCommands?: string[];
  /** share of conditional lease updates that fail with ConditionalCheckFailedException before they are sent */
  leaseConflictRate?: number;
  /** share of BatchWriteItem calls of which DynamoDB processes only the first half (the rest come back as UnprocessedItems) */
  unprocessedRate?: number;
}

export interface DynamoFaultLog {
  throttled: number;
  leaseConflicts: number;
  unprocessed: number;
  /** BatchWriteItem calls that reached the table: epoch ms and the ledger emails they wrote */
  ledgerWrites: { at: number; emails: string[] }[];
  calls: number;
  /** injecting while true (set false for a clean retry run, true again to resume) */
  active: boolean;
}

/** BatchWriteItem input as the document client passes it (native values). */
interface BatchInput {
  RequestItems?: Record<string, { PutRequest?: { Item?: Record<string, unknown> }; DeleteRequest?: { Key?: Record<string, unknown> } }[]>;
}

/**
 * Adds a seeded fault middleware to a DynamoDB client (give that client to DynamoStateStore).
 * Throttles are thrown as ProvisionedThroughputExceededException / ThrottlingException inside the
 * SDK's retry loop, so its own retries handle some; nothing faulted ever reaches the table.
 * @example const faults = addDynamoFaults(client, { seed: 1, throttleRate: 0.1 }); ...; faults.active = false;
 */
export function addDynamoFaults(client: DynamoDBClient, opts: DynamoFaultOptions): DynamoFaultLog {
  const random = seededRandom(opts.seed);
  const log: DynamoFaultLog = { throttled: 0, leaseConflicts: 0, unprocessed: 0, ledgerWrites: [], calls: 0, active: true };
  const meta = { $metadata: { httpStatusCode: 400, attempts: 1 } };

  // initialize step: the document client's native input and output; the call has not been sent yet
  client.middlewareStack.add(
    (next, context) => async (args) => {
      log.calls++;
      const command = String(context.commandName ?? '');
      const input = args.input as { Key?: { pk?: unknown }; ConditionExpression?: string } & BatchInput;
      const leaseWrite = command === 'UpdateItemCommand' && input.ConditionExpression !== undefined && String(input.Key?.pk ?? '').startsWith('LEASE#');
      if (log.active && leaseWrite && random() < (opts.leaseConflictRate ?? 0)) {
        log.leaseConflicts++;
        throw new ConditionalCheckFailedException({ message: 'injected: the conditional request failed', ...meta });
      }
      if (command !== 'BatchWriteItemCommand') return next(args);

      const [table, requests = []] = Object.entries(input.RequestItems ?? {})[0] ?? [];
      let kept = requests;
      let held: typeof requests = [];
      if (log.active && table !== undefined && requests.length > 1 && random() < (opts.unprocessedRate ?? 0)) {
        log.unprocessed++;
        kept = requests.slice(0, Math.ceil(requests.length / 2));
        held = requests.slice(kept.length);
      }
      const sent = table === undefined ? args : { ...args, input: { ...input, RequestItems: { [table]: kept } } };
      const result = await next(sent);
      const ledgerEmails = kept.flatMap((r) => {
        const item = r.PutRequest?.Item;
        return typeof item?.pk === 'string' && item.pk.startsWith('LEDGER#') && typeof item.sk === 'string' ? [item.sk] : [];
      });
      if (ledgerEmails.length) log.ledgerWrites.push({ at: Date.now(), emails: ledgerEmails });
      if (held.length && table !== undefined) {
        const output = result.output as { UnprocessedItems?: Record<string, unknown[]> };
        output.UnprocessedItems = { ...output.UnprocessedItems, [table]: [...(output.UnprocessedItems?.[table] ?? []), ...held] };
      }
      return result;
    },
    { step: 'initialize', priority: 'high', name: 'inviteSyncChaosConflicts' },
  );
  // finalizeRequest step, inside the SDK's retry loop: a throttle here is retried like a real one
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const targeted = opts.throttleCommands === undefined || opts.throttleCommands.includes(String(context.commandName ?? ''));
      if (log.active && targeted && random() < (opts.throttleRate ?? 0)) {
        log.throttled++;
        if (random() < 0.5) throw new ProvisionedThroughputExceededException({ message: 'injected: throughput exceeded', ...meta });
        throw Object.assign(new Error('injected: rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException', ...meta });
      }
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'inviteSyncChaosThrottles' },
  );
  return log;
}

// ------------------------------------------------------------------ table scans

/**
 * Every item of a table, as sorted JSON lines: compare two scans to prove nothing changed.
 * @example expect(await scanTable(client, table)).toEqual(before)
 */
export async function scanTable(client: DynamoDBClient, tableName: string): Promise<string[]> {
  const items: string[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    for (const item of out.Items ?? []) items.push(JSON.stringify(item, Object.keys(item).sort()));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items.sort();
}

// ------------------------------------------------------------------ output capture and leak checks

export interface OutputCapture {
  /** everything written so far */
  text(): string;
  restore(): void;
}

/**
 * Captures what this process writes to stdout/stderr and through console.* (still passed through
 * unless `quiet`), until `restore()`.
 * @example const cap = captureOutput(); try { await flow(); } finally { cap.restore(); } findLeaks(cap.text(), secrets)
 */
export function captureOutput(opts: { quiet?: boolean } = {}): OutputCapture {
  const chunks: string[] = [];
  const outWrite = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const saved = methods.map((m) => [m, console[m]] as const);
  const wrap = (orig: typeof process.stdout.write) =>
    ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return opts.quiet ? true : (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
  process.stdout.write = wrap(outWrite);
  process.stderr.write = wrap(errWrite);
  for (const [m, orig] of saved) {
    console[m] = (...args: unknown[]) => {
      chunks.push(format(...args) + '\n');
      if (!opts.quiet) orig(...args);
    };
  }
  return {
    text: () => chunks.join(''),
    restore: () => {
      process.stdout.write = outWrite;
      process.stderr.write = errWrite;
      for (const [m, orig] of saved) console[m] = orig;
    },
  };
}

/** A plain email address (RFC 5322 atext local part, a dotted domain ending in letters). Masked forms (`j***@e***.com`) do not match. */
export const PLAIN_EMAIL = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}/g;

/**
 * What must never appear in a log line: each secret value, `Bearer `, a `whsec_` key, a plain email.
 * @returns one description per kind of leak found (no secret values in them), empty when clean
 */
export function findLeaks(text: string, secrets: string[]): string[] {
  const found: string[] = [];
  secrets.forEach((s, i) => {
    if (s.length > 0 && text.includes(s)) found.push(`secret #${i + 1} appears`);
  });
  if (/bearer\s/i.test(text)) found.push('a Bearer credential appears');
  if (/whsec_/i.test(text)) found.push('a whsec_ key appears');
  const emails = text.match(PLAIN_EMAIL) ?? [];
  if (emails.length) found.push(`${emails.length} plain email address(es) appear, e.g. one ending in ${(emails[0] ?? '').split('@')[1] ?? ''}`);
  return found;
}
