// invite-sync serve --> node:http POST /webhook --> the Lambda's webhook handler; --drop-dir --> ingestDrop; in-process queue --> reconcile
import type { Command } from 'commander';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, ScheduledEvent } from 'aws-lambda';
import { loadSyncConfigFile } from '../../functions/config/load-sync-config.ts';
import type { Container } from '../../functions/runtime/composition-root.ts';
import { keyedLog, type HandlerLog } from '../../functions/runtime/logger.ts';
import type { Log } from '../../functions/sync/ports.ts';
import { createLogMetrics } from '../../functions/runtime/metrics.ts';
import { staticSecret } from '../../functions/secrets/secrets-manager.ts';
import { InProcessReconcileQueue } from '../../functions/queue/in-process-queue.ts';
import { handleWebhook, MAX_WEBHOOK_BODY_BYTES, WEBHOOK_PATH } from '../../functions/handlers/webhook.handler.ts';
import { handleSchedule } from '../../functions/handlers/schedule.handler.ts';
import { reconcileAndRecord } from '../../functions/handlers/run-reconcile.ts';
import { errorResponse, type JsonResult } from '../../functions/handlers/http.ts';
import { parseWebhookKeys, WebhookKeyError } from '../../functions/handlers/webhook-signature.ts';
import { handleScimHttp, isScimPath, MAX_SCIM_BODY_BYTES, scimPayloadTooLarge } from '../../functions/handlers/scim.handler.ts';
import { parseServeScimTokens, ScimTokenConfigError, staticScimAuth } from '../../functions/scim/auth.ts';
import type { ScimHost } from '../../functions/runtime/composition-root.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { scimStoreOf } from '../../functions/state/scim-store.ts';
import { createCliRuntime } from '../runtime.ts';
import { createStderrLog, isLogLevel } from '../stderr-log.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { addStateOptions, stateChoice } from '../state-options.ts';
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { ingestDrop } from '../../functions/handlers/ingest-drop.ts';
import { DropDirWatcher } from '../drop-dir.ts';

interface ServeFlags {
  config: string;
  port: string;
  host: string;
  scheduleSeconds?: string;
  dropDir?: string;
  stateDir?: string;
  ephemeral?: boolean;
  wait?: number;
}

/** How long one queued reconcile may take. */
const RECONCILE_DEADLINE_MS = 5 * 60_000;
/** How long shutdown waits for open requests, then for queued reconciles. */
const REQUESTS_GRACE_MS = 10_000;
const DRAIN_GRACE_MS = 60_000;
/** Bodies beyond this are not even drained: the connection is dropped after the 413. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

function integer(flag: string, raw: string, min: number, max: number): number {
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`--${flag} must be a whole number from ${min} to ${max}, got '${raw}'`, EXIT.badInput);
  return n;
}


export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve the webhook (POST /webhook, Standard Webhooks signed) and, with SCIM_TOKEN, SCIM 2.0 (/scim/v2) on a local port; reconcile touched targets in the background')
    .requiredOption('--config <file>', 'sync config file (JSON)')
    .requiredOption('--port <n>', 'port to listen on (0 = a free port)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--schedule-seconds <n>', 're-check every target every n seconds (the schedule trigger)')
    .option('--drop-dir <dir>', 'take roster file drops from <dir>/<source>/<file>.csv|.json, like the S3 drop bucket (write, then rename)');
  addStateOptions(cmd, { wait: true }).action(async (flags: ServeFlags) => {
    await serve(flags);
  });
}

async function serve(flags: ServeFlags): Promise<void> {
  const port = integer('port', flags.port, 0, 65535);
  const host = flags.host.trim();
  if (!host) throw new CliError('--host must not be blank', EXIT.badInput);
  const scheduleSeconds = flags.scheduleSeconds === undefined ? undefined : integer('schedule-seconds', flags.scheduleSeconds, 1, 86_400);
  const secret = process.env.WEBHOOK_SECRET?.trim();
  if (!secret) throw new CliError('WEBHOOK_SECRET is not set: export the whsec_… signing key(s) the HR system signs with (space-separated during a rotation)', EXIT.badInput);
  try {
    if (parseWebhookKeys(secret).length === 0) throw new CliError('WEBHOOK_SECRET holds no key', EXIT.badInput);
  } catch (err) {
    if (err instanceof WebhookKeyError) throw new CliError(`WEBHOOK_SECRET: ${err.message}`, EXIT.badInput);
    throw err;
  }
  const scimTokens = process.env.SCIM_TOKEN?.trim();
  let scimAuth;
  try {
    scimAuth = scimTokens ? staticScimAuth(parseServeScimTokens(scimTokens)) : undefined;
  } catch (err) {
    if (err instanceof ScimTokenConfigError) throw new CliError(err.message, EXIT.badInput);
    throw err;
  }
  const dropDir = flags.dropDir === undefined ? undefined : await checkDropDir(flags.dropDir);
  const config = await loadSyncConfigFile(flags.config);

  const level = process.env.INVITE_SYNC_LOG_LEVEL;
  const baseLog = createStderrLog(isLogLevel(level) ? level : 'info');
  const rt = await createCliRuntime({ env: process.env, log: baseLog, maxAnswerBytes: config.limits.maxAnswerBytes, connections: config.concurrency, ...stateChoice(flags) });
  const scim = scimAuth && rt.store instanceof DynamoStateStore ? { store: scimStoreOf(rt.store), auth: scimAuth } : undefined;
  const app = startServeApp({ config, api: rt.api, store: rt.store, clock: rt.clock, log: baseLog, webhookSecret: secret, scheduleSeconds, scim, dropDir });
  let listening: { host: string; port: number };
  try {
    listening = await app.listen(port, host);
  } catch (err) {
    await rt.close();
    throw new CliError(`cannot listen on ${host}:${port}: ${(err as Error).message}`, EXIT.couldNotRun);
  }
  baseLog.info('serve ready', { state: rt.stateDescription, targets: config.targets.length, scheduleSeconds: scheduleSeconds ?? 'off', scim: scim ? '/scim/v2' : 'off (set SCIM_TOKEN)', dropDir: dropDir ?? 'off' });
  const shownHost = listening.host.includes(':') ? `[${listening.host}]` : listening.host;
  process.stdout.write(`listening on http://${shownHost}:${listening.port}\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve).once('SIGTERM', resolve);
  });
  const force = () => {
    process.stderr.write('invite-sync: second signal: exiting without waiting\n');
    process.exit(EXIT.failed);
  };
  process.once('SIGINT', force).once('SIGTERM', force);
  baseLog.info('shutting down', { signal });
  const finished = await app.stop();
  if (!finished) baseLog.warn('shutdown: queued reconciles did not finish in time; the next run picks them up');
  await rt.close();
  process.off('SIGINT', force).off('SIGTERM', force);
  process.exitCode = EXIT.ok;
}

export interface ServeAppOptions extends Pick<Container, 'config' | 'api' | 'store' | 'clock'> {
  /** a plain Log gains correlation keys (runId, eventId) */
  log: Log | HandlerLog;
  /** the `whsec_…` key(s), space-separated */
  webhookSecret: string;
  scheduleSeconds?: number | undefined;
  /** the SCIM endpoint (SCIM_TOKEN); absent: /scim/v2 answers 404 */
  scim?: ScimHost | undefined;
  /** watch `<dropDir>/<source>/` for roster files (cli/drop-dir.ts) */
  dropDir?: string | undefined;
  /** the drop dir's poll interval and stable time (tests); defaults DROP_POLL_MS and DROP_STABLE_MS */
  dropPollMs?: number;
  dropStableMs?: number;
}

export interface ServeApp {
  container: Container;
  queue: InProcessReconcileQueue;
  server: Server;
  /** the drop dir watcher, when `dropDir` is set */
  drops?: DropDirWatcher;
  listen(port: number, host: string): Promise<{ host: string; port: number }>;
  /** stops taking requests, waits for them, then for queued reconciles; true when all finished in time */
  stop(): Promise<boolean>;
}

/**
 * The serve host without the CLI around it: an HTTP server whose only route is `POST /webhook`
 * (the Lambda's webhook handler), an in-process reconcile queue, and an optional schedule timer.
 */
export function startServeApp(opts: ServeAppOptions): ServeApp {
  const log = 'appendKeys' in opts.log ? opts.log : keyedLog(opts.log);
  // the worker needs the container and the container needs the queue
  const ref: { container?: Container } = {};
  const queue = new InProcessReconcileQueue({
    log,
    worker: async (target, _reason, trigger) => {
      const c = ref.container!;
      const report = await reconcileAndRecord(c, { targetNames: [target], trigger: trigger ?? 'queue', deadline: c.clock.now() + RECONCILE_DEADLINE_MS });
      return report.targets.every((t) => !t.error);
    },
  });
  const container: Container = {
    stage: 'local',
    config: opts.config,
    api: opts.api,
    store: opts.store,
    queue,
    clock: opts.clock,
    log,
    metrics: createLogMetrics(log),
    webhookSecret: staticSecret(opts.webhookSecret),
    ...(opts.scim ? { scim: opts.scim } : {}),
  };
  ref.container = container;

  const server = createServer((req, res) => {
    handleRequest(container, req, res).catch((err: unknown) => {
      log.error('serve: request failed', { error: (err as Error).message });
      if (!res.headersSent) send(res, errorResponse(500, 'internal', 'internal error'));
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;

  let timer: ReturnType<typeof setInterval> | undefined;
  if (opts.scheduleSeconds) {
    timer = setInterval(() => {
      handleSchedule(scheduledEvent(container.clock.now()), container).catch((err: unknown) =>
        log.error('serve: schedule could not queue the targets', { error: (err as Error).message }),
      );
    }, opts.scheduleSeconds * 1000);
  }

  let drops: DropDirWatcher | undefined;
  if (opts.dropDir) {
    drops = new DropDirWatcher({
      dir: opts.dropDir,
      ingest: (input) => ingestDrop(container, input),
      log,
      clock: container.clock,
      ...(opts.dropPollMs !== undefined ? { intervalMs: opts.dropPollMs } : {}),
      ...(opts.dropStableMs !== undefined ? { stableMs: opts.dropStableMs } : {}),
    });
    drops.start();
  }

  return {
    container,
    queue,
    server,
    ...(drops ? { drops } : {}),
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? { host: addr.address, port: addr.port } : { host, port });
        });
      }),
    async stop() {
      if (timer) clearInterval(timer);
      await drops?.stop();
      await new Promise<void>((resolve) => {
        const grace = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, REQUESTS_GRACE_MS);
        server.close(() => {
          clearTimeout(grace);
          resolve();
        });
        server.closeIdleConnections();
      });
      return queue.drain(DRAIN_GRACE_MS);
    },
  };
}

/** The drop dir as an absolute path; exit 2 naming the flag when it is not a directory. */
async function checkDropDir(raw: string): Promise<string> {
  const dir = resolvePath(raw.trim());
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new CliError(`--drop-dir: ${raw} is not a directory`, EXIT.badInput);
  return dir;
}

function send(res: ServerResponse, result: JsonResult): void {
  res.writeHead(result.statusCode, { ...result.headers, 'content-length': Buffer.byteLength(result.body) });
  res.end(result.body);
}

async function handleRequest(container: Container, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (isScimPath(path)) {
    const body = await readBody(req, MAX_SCIM_BODY_BYTES);
    if (body === 'tooLarge') {
      res.setHeader('connection', 'close');
      send(res, scimPayloadTooLarge());
      if (!req.complete) req.destroy();
      return;
    }
    const host = req.headers.host ?? 'localhost';
    return send(res, await handleScimHttp(toApiEvent(req, url, body), container, { baseUrl: `http://${host}/scim/v2` }));
  }
  if (path !== WEBHOOK_PATH || req.method !== 'POST') {
    req.resume();
    if (path !== WEBHOOK_PATH) return send(res, errorResponse(404, 'not_found', `no route ${path}`));
    return send(res, errorResponse(405, 'method_not_allowed', 'use POST', {}, { allow: 'POST' }));
  }
  const body = await readBody(req);
  if (body === 'tooLarge') {
    res.setHeader('connection', 'close');
    send(res, errorResponse(413, 'payload_too_large', `body is larger than ${MAX_WEBHOOK_BODY_BYTES} bytes`));
    if (!req.complete) req.destroy();
    return;
  }
  send(res, await handleWebhook(toApiEvent(req, url, body), container));
}

/** The body, or 'tooLarge' past `limit` (the webhook's or SCIM's; drained up to 16 MiB so the client reads the 413). */
function readBody(req: IncomingMessage, limit = MAX_WEBHOOK_BODY_BYTES): Promise<Buffer | 'tooLarge'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > DRAIN_LIMIT_BYTES) {
        req.pause();
        resolve('tooLarge');
      }
    });
    req.on('end', () => resolve(size > limit ? 'tooLarge' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function clfTime(ms: number): string {
  const d = new Date(ms);
  const mon = d.toUTCString().slice(8, 11);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** The request as API Gateway (HTTP API, payload 2.0) hands it to the function: headers lower-cased, body base64. */
export function toApiEvent(req: IncomingMessage, url: URL, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const now = Date.now();
  const rawIp = req.socket.remoteAddress ?? '127.0.0.1';
  const sourceIp = rawIp.startsWith('::ffff:') ? rawIp.slice(7) : rawIp;
  const domainName = headers.host ?? 'localhost';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'invite-sync-serve',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: { method: req.method ?? 'POST', path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now,
    },
    body: body.toString('base64'),
    isBase64Encoded: true,
  };
}

/** The event EventBridge's schedule rule sends. */
function scheduledEvent(now: number): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'local',
    resources: ['arn:aws:events:local:000000000000:rule/invite-sync-serve-schedule'],
    detail: {},
  };
}
