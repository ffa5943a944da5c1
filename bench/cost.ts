// bench/scenarios/cost.ts --> cost model: measured per-run counts × runs per month × unit prices --> a month of a stage in USD
//
// Pure arithmetic, no I/O. The prices are AWS list prices for us-east-1 (no free tier, no savings plans),
// written down from AWS's public price pages as known on PRICES_AS_OF; they are not fetched. Check them
// against https://aws.amazon.com/<service>/pricing/ before quoting a figure.

/** The date the unit prices below were taken as (us-east-1 list prices). */
export const PRICES_AS_OF = '2025-01-01';
export const PRICES_REGION = 'us-east-1';

/** AWS bills a month as 730 hours. */
export const HOURS_PER_MONTH = 730;

/** USD unit prices, us-east-1 list prices as of PRICES_AS_OF. */
export const PRICES = {
  /** Lambda, arm64 (the stack's architecture): per GB-second of duration */
  lambdaArmGbSecond: 0.0000133334,
  /** Lambda: per request */
  lambdaRequest: 0.2 / 1_000_000,
  /** DynamoDB on-demand: per read request unit (price since 2024-11-01) */
  dynamoReadRequestUnit: 0.125 / 1_000_000,
  /** DynamoDB on-demand: per write request unit (price since 2024-11-01) */
  dynamoWriteRequestUnit: 0.625 / 1_000_000,
  /** SQS standard queue: per request (64 KB chunk) */
  sqsRequest: 0.4 / 1_000_000,
  /** Secrets Manager: per secret per month */
  secretMonth: 0.4,
  /** Secrets Manager: per API call */
  secretApiCall: 0.05 / 10_000,
  /** CloudWatch: per standard-resolution alarm metric per month (a metric-math alarm pays per metric it reads) */
  alarmMetricMonth: 0.1,
  /** CloudWatch: per dashboard per month (beyond the account's first three) */
  dashboardMonth: 3,
  /** CloudWatch: per custom metric per month (first 10 000 metrics tier) */
  customMetricMonth: 0.3,
  /** CloudWatch Logs: per GB ingested (standard class) */
  logIngestGb: 0.5,
  /** KMS: per customer-managed key per month */
  kmsKeyMonth: 1,
} as const;

export type Prices = { readonly [K in keyof typeof PRICES]: number };

/** Runs a month of an EventBridge `rate(...)` schedule (730-hour month). Cron expressions are refused. */
export function runsPerMonth(scheduleExpression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(scheduleExpression.trim());
  if (!m) throw new Error(`scheduleExpression: only rate(N minutes|hours|days) is priced, got ${JSON.stringify(scheduleExpression)}`);
  const n = Number(m[1]);
  if (n <= 0) throw new Error(`scheduleExpression: the rate must be at least 1, got ${n}`);
  const minutes = m[2]!.startsWith('minute') ? n : m[2]!.startsWith('hour') ? n * 60 : n * 1440;
  return (HOURS_PER_MONTH * 60) / minutes;
}

/** What one scheduled run costs in counted units (measured or scaled from a measured size). */
export interface PerRun {
  /** billed Lambda duration of one run, ms, summed over its invocations (AWS rounds each up to 1 ms) */
  durationMs: number;
  /** Lambda invocations a run takes (schedule + one SQS-triggered reconcile per target batch) */
  invocations: number;
  /** DynamoDB read request units (strongly consistent 4 KB reads; the store's ConsumedCapacity) */
  readUnits: number;
  /** DynamoDB write request units */
  writeUnits: number;
  /** SQS requests the run makes beyond the event source's polling (SendMessageBatch of the schedule, DeleteMessageBatch of the consumed batch, continuations) */
  sqsRequests: number;
  /** Secrets Manager GetSecretValue calls (cached per cold start: 1 when every run is a cold start) */
  secretCalls: number;
  /** bytes the run writes to CloudWatch Logs */
  logBytes: number;
}

/** What the stack holds that costs by the month, whatever the roster size. */
export interface Fixed {
  /** metrics read by the stack's alarms, summed over alarms */
  alarmMetrics: number;
  dashboards: number;
  secrets: number;
  kmsKeys: number;
  /** custom metrics the handlers publish (names × dimension sets) */
  customMetrics: number;
  /** SQS requests of the Lambda event source polling the reconcile queue, per month */
  sqsPollRequests: number;
}

export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  usd: number;
}

export interface MonthCost {
  runs: number;
  variable: CostLine[];
  fixed: CostLine[];
  variableUsd: number;
  fixedUsd: number;
  totalUsd: number;
}

const GB = 1024 ** 3;

/** One month of a stage: `runs` runs of `perRun` on a `memoryMb` function, plus the fixed items. */
export function monthCost(perRun: PerRun, runs: number, memoryMb: number, fixed: Fixed, prices: Prices = PRICES): MonthCost {
  if (!(runs >= 0) || !(memoryMb > 0)) throw new Error(`monthCost: runs must be ≥ 0 and memoryMb > 0 (got ${runs}, ${memoryMb})`);
  const gbSeconds = (Math.ceil(perRun.durationMs) / 1000) * (memoryMb / 1024) * runs;
  const logGb = (perRun.logBytes * runs) / GB;
  const variable: CostLine[] = [
    { item: 'Lambda duration', quantity: gbSeconds, unit: 'GB-s', usd: gbSeconds * prices.lambdaArmGbSecond },
    { item: 'Lambda requests', quantity: perRun.invocations * runs, unit: 'requests', usd: perRun.invocations * runs * prices.lambdaRequest },
    { item: 'DynamoDB reads', quantity: perRun.readUnits * runs, unit: 'RRU', usd: perRun.readUnits * runs * prices.dynamoReadRequestUnit },
    { item: 'DynamoDB writes', quantity: perRun.writeUnits * runs, unit: 'WRU', usd: perRun.writeUnits * runs * prices.dynamoWriteRequestUnit },
    { item: 'SQS requests of runs', quantity: perRun.sqsRequests * runs, unit: 'requests', usd: perRun.sqsRequests * runs * prices.sqsRequest },
    { item: 'Secrets Manager API calls', quantity: perRun.secretCalls * runs, unit: 'calls', usd: perRun.secretCalls * runs * prices.secretApiCall },
    { item: 'Log ingestion', quantity: logGb, unit: 'GB', usd: logGb * prices.logIngestGb },
  ];
  const fixedLines: CostLine[] = [
    { item: 'CloudWatch alarms', quantity: fixed.alarmMetrics, unit: 'alarm metrics', usd: fixed.alarmMetrics * prices.alarmMetricMonth },
    { item: 'CloudWatch dashboard', quantity: fixed.dashboards, unit: 'dashboards', usd: fixed.dashboards * prices.dashboardMonth },
    { item: 'Custom metrics', quantity: fixed.customMetrics, unit: 'metrics', usd: fixed.customMetrics * prices.customMetricMonth },
    { item: 'Secrets', quantity: fixed.secrets, unit: 'secrets', usd: fixed.secrets * prices.secretMonth },
    { item: 'KMS keys', quantity: fixed.kmsKeys, unit: 'keys', usd: fixed.kmsKeys * prices.kmsKeyMonth },
    { item: 'SQS polling (event source)', quantity: fixed.sqsPollRequests, unit: 'requests', usd: fixed.sqsPollRequests * prices.sqsRequest },
  ];
  const sum = (lines: CostLine[]) => lines.reduce((a, l) => a + l.usd, 0);
  const variableUsd = sum(variable);
  const fixedUsd = sum(fixedLines);
  return { runs, variable, fixed: fixedLines, variableUsd, fixedUsd, totalUsd: variableUsd + fixedUsd };
}

/** `perRun` measured at `fromPeople`, scaled linearly to `toPeople` (invocations, SQS requests and secret calls are per run, not per person). */
export function scalePerRun(perRun: PerRun, fromPeople: number, toPeople: number): PerRun {
  if (!(fromPeople > 0)) throw new Error(`scalePerRun: fromPeople must be > 0, got ${fromPeople}`);
  const k = toPeople / fromPeople;
  return {
    durationMs: perRun.durationMs * k,
    readUnits: perRun.readUnits * k,
    writeUnits: perRun.writeUnits * k,
    invocations: perRun.invocations,
    sqsRequests: perRun.sqsRequests,
    secretCalls: perRun.secretCalls,
    logBytes: perRun.logBytes * k,
  };
}

/**
 * SQS ReceiveMessage calls a month of Lambda's event source polling an idle queue: `pollers` long polls
 * of `waitSeconds` each, back to back (AWS starts five pollers per queue).
 */
export function sqsPollRequestsPerMonth(pollers = 5, waitSeconds = 20): number {
  return (pollers * HOURS_PER_MONTH * 3600) / waitSeconds;
}

/** One size's month for the printed table. */
export interface SizedMonth {
  people: number;
  /** `measured` at this size, or `scaled from N` */
  basis: string;
  perRun: PerRun;
  month: MonthCost;
}

const usd = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(4));
const qty = (v: number): string => (v >= 1000 ? Math.round(v).toLocaleString('en-US') : v === 0 || v >= 1 ? String(Math.round(v * 100) / 100) : v.toPrecision(2));

/** A month per size as a Markdown table (one column per size; quantities and USD). */
export function renderCostTable(sizes: readonly SizedMonth[]): string {
  if (sizes.length === 0) return '';
  const head = ['item', ...sizes.map((s) => `${s.people.toLocaleString('en-US')} people (${s.basis})`)];
  const rows: string[][] = [];
  const first = sizes[0]!.month;
  rows.push(['runs a month', ...sizes.map((s) => qty(s.month.runs))]);
  rows.push(['billed ms a run (all invocations)', ...sizes.map((s) => qty(s.perRun.durationMs))]);
  first.variable.forEach((l, i) => rows.push([`${l.item} (${l.unit})`, ...sizes.map((s) => `${qty(s.month.variable[i]!.quantity)}: $${usd(s.month.variable[i]!.usd)}`)]));
  first.fixed.forEach((l, i) => rows.push([`${l.item} (${l.unit}, fixed)`, ...sizes.map((s) => `${qty(s.month.fixed[i]!.quantity)}: $${usd(s.month.fixed[i]!.usd)}`)]));
  rows.push(['**total a month (USD)**', ...sizes.map((s) => `**$${usd(s.month.totalUsd)}**`)]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
