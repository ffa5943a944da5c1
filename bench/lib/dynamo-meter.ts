// bench scenarios --> DynamoMeter (middleware on a DynamoDBClient) --> per key prefix: calls, items, bytes, capacity
//
// The store's own stats() give totals; a figure such as "the people reads of a converged run" needs them
// per partition key. The meter watches every command the client sends (after the document client has
// marshalled it; answers are seen unmarshalled again) and books it under the partition key it touches: its prefix (`PEOPLE`, `LEDGER`, `RUN`,
// the text before the first `#`) and, for writes, the exact key per wall-clock second.
import type { AttributeValue, ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** What the meter booked under one key prefix. */
export interface PrefixTally {
  /** read calls (GetItem, Query, BatchGetItem, TransactGetItems, Scan) that touched the prefix */
  reads: number;
  /** items the reads returned */
  itemsRead: number;
  /** DynamoDB item size of the items read (attribute names + values, AWS's rules) */
  bytesRead: number;
  /** read capacity the calls consumed, as the endpoint reports it */
  readUnits: number;
  /** write calls that touched the prefix */
  writes: number;
  /** items written (a Put, Update or Delete each; ConditionCheck items are not writes) */
  itemsWritten: number;
  /** write capacity, a batch's or transaction's shared evenly over its items */
  writeUnits: number;
}

export interface MeterSummary {
  byPrefix: Record<string, PrefixTally>;
  /** the largest write units one exact partition key took in one wall-clock second, and which */
  maxKeyWriteUnitsPerSecond: { pk: string; units: number } | null;
  /** distinct partition keys written */
  keysWritten: number;
  /** distinct items (pk and sk) written: an item written twice (a lease taken and released) counts once */
  itemsWritten: number;
}

type Av = AttributeValue | string | undefined;
type Input = Record<string, unknown>;

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** A number's size by AWS's rule: about one byte per two significant digits, plus one. */
function numberBytes(n: string): number {
  const digits = n.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
  return Math.ceil(Math.max(1, digits) / 2) + 1;
}

/**
 * The size of one attribute value as the document client hands it back (string, number, boolean, null,
 * Uint8Array, array = L, Set = SS/NS/BS, object = M), by AWS's item size rules.
 */
function valueBytes(v: unknown): number {
  if (typeof v === 'string') return utf8(v);
  if (typeof v === 'number' || typeof v === 'bigint') return numberBytes(String(v));
  if (typeof v === 'boolean' || v === null || v === undefined) return 1;
  if (v instanceof Uint8Array) return v.length;
  if (Array.isArray(v)) return 3 + v.reduce((n: number, x) => n + valueBytes(x) + 1, 0);
  if (v instanceof Set) return [...(v as Set<unknown>)].reduce((n: number, x) => n + valueBytes(x), 0);
  if (typeof v === 'object') {
    // a NumberValue (wrapNumbers) keeps its digits in `value`
    if ('value' in v && Object.keys(v).length === 1 && typeof (v as { value: unknown }).value === 'string') return numberBytes((v as { value: string }).value);
    return 3 + Object.entries(v).reduce((n, [k, x]) => n + utf8(k) + valueBytes(x) + 1, 0);
  }
  return 0;
}

/**
 * The DynamoDB size of an item as the document client returns it: attribute names plus values.
 * @example itemBytes({ pk: 'PEOPLE', n: 12 }) // 2 + 6 + 1 + 2
 */
export function itemBytes(item: Record<string, unknown>): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) n += utf8(name) + valueBytes(v);
  return n;
}

const str = (v: Av): string | undefined => (typeof v === 'string' ? v : v?.S);

/** The text before the first `#` (the key's kind): `PEOPLE`, `LEDGER`, `RUN`, … */
export const prefixOf = (pk: string): string => pk.split('#')[0]!;

/** The partition key value a Query's KeyConditionExpression binds (`#pk = :pk`, `pk = :v`). */
function queryPk(input: Input): string | undefined {
  const expr = String(input.KeyConditionExpression ?? '');
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, Av>;
  for (const m of expr.matchAll(/(#?\w+)\s*=\s*(:\w+)/g)) {
    const name = m[1]!.startsWith('#') ? names[m[1]!] : m[1];
    if (name === 'pk') return str(values[m[2]!]);
  }
  return undefined;
}

const pkOf = (item: unknown): string | undefined => str((item as Record<string, Av> | undefined)?.pk);
const skOf = (item: unknown): string => str((item as Record<string, Av> | undefined)?.sk) ?? '';

/** Every item a write command writes, by partition key (ConditionCheck items count as touched, not written). */
function writtenKeys(command: string, input: Input): { pk: string; sk: string; written: boolean }[] {
  const out: { pk: string; sk: string; written: boolean }[] = [];
  const add = (key: unknown, written = true) => {
    const pk = pkOf(key);
    if (pk !== undefined) out.push({ pk, sk: skOf(key), written });
  };
  if (command === 'PutItemCommand') add(input.Item);
  else if (command === 'UpdateItemCommand' || command === 'DeleteItemCommand') add(input.Key);
  else if (command === 'BatchWriteItemCommand') {
    for (const list of Object.values((input.RequestItems ?? {}) as Record<string, Input[]>)) {
      for (const r of list) add((r.PutRequest as Input | undefined)?.Item ?? (r.DeleteRequest as Input | undefined)?.Key);
    }
  } else if (command === 'TransactWriteItemsCommand') {
    for (const t of (input.TransactItems ?? []) as Input[]) {
      if (t.Put) add((t.Put as Input).Item);
      else if (t.Update) add((t.Update as Input).Key);
      else if (t.Delete) add((t.Delete as Input).Key);
      else if (t.ConditionCheck) add((t.ConditionCheck as Input).Key, false);
    }
  }
  return out;
}

/** The partition keys a read command reads. */
function readKeys(command: string, input: Input): string[] {
  if (command === 'GetItemCommand') return [pkOf(input.Key)].filter((k): k is string => k !== undefined);
  if (command === 'QueryCommand') return [queryPk(input) ?? '(unknown)'];
  if (command === 'ScanCommand') return ['(scan)'];
  if (command === 'BatchGetItemCommand') {
    return Object.values((input.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>).flatMap((r) => (r.Keys ?? []).map(pkOf).filter((k): k is string => k !== undefined));
  }
  if (command === 'TransactGetItemsCommand') return ((input.TransactItems ?? []) as Input[]).map((t) => pkOf((t.Get as Input | undefined)?.Key)).filter((k): k is string => k !== undefined);
  return [];
}

function units(out: { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }, kind: 'read' | 'write'): number {
  const list = Array.isArray(out.ConsumedCapacity) ? out.ConsumedCapacity : out.ConsumedCapacity ? [out.ConsumedCapacity] : [];
  return list.reduce((n, c) => n + (c.CapacityUnits ?? (kind === 'read' ? c.ReadCapacityUnits : c.WriteCapacityUnits) ?? 0), 0);
}

const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);
const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);

let meters = 0;

const emptyTally = (): PrefixTally => ({ reads: 0, itemsRead: 0, bytesRead: 0, readUnits: 0, writes: 0, itemsWritten: 0, writeUnits: 0 });

/**
 * Books every command of a client by key prefix; `reset()` between measured runs.
 * @example const meter = DynamoMeter.attach(client); await run(); meter.summary().byPrefix.PEOPLE?.readUnits
 */
export class DynamoMeter {
  private tallies = new Map<string, PrefixTally>();
  /** `${pk}\n${second}` → write units */
  private perSecond = new Map<string, number>();
  private keys = new Set<string>();
  private items = new Set<string>();

  private constructor(private readonly clock: () => number) {}

  /** A meter on `client` (every later command of it, whichever store or document client sends it). */
  static attach(client: DynamoDBClient, clock: () => number = Date.now): DynamoMeter {
    const meter = new DynamoMeter(clock);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        meter.book(String(context.commandName), args.input as Input, out.output as unknown as Record<string, unknown>);
        return out;
      },
      { step: 'build', name: `benchDynamoMeter${++meters}` },
    );
    return meter;
  }

  private tally(prefix: string): PrefixTally {
    let t = this.tallies.get(prefix);
    if (!t) this.tallies.set(prefix, (t = emptyTally()));
    return t;
  }

  private book(command: string, input: Input, output: Record<string, unknown>): void {
    if (WRITE_COMMANDS.has(command)) {
      const touched = writtenKeys(command, input);
      if (touched.length === 0) return;
      const share = units(output, 'write') / touched.length;
      const second = Math.floor(this.clock() / 1000);
      for (const prefix of new Set(touched.map((k) => prefixOf(k.pk)))) this.tally(prefix).writes += 1;
      for (const { pk, sk, written } of touched) {
        const t = this.tally(prefixOf(pk));
        if (written) {
          t.itemsWritten += 1;
          this.items.add(`${pk}\n${sk}`);
        }
        t.writeUnits += share;
        this.keys.add(pk);
        const slot = `${pk}\n${second}`;
        this.perSecond.set(slot, (this.perSecond.get(slot) ?? 0) + share);
      }
    } else if (READ_COMMANDS.has(command)) {
      const pks = readKeys(command, input);
      if (pks.length === 0) return;
      // the document client has unmarshalled the answer by now (its middleware sits at the deserializer)
      const items: Record<string, unknown>[] =
        command === 'GetItemCommand'
          ? output.Item
            ? [output.Item as Record<string, unknown>]
            : []
          : command === 'QueryCommand' || command === 'ScanCommand'
            ? ((output.Items ?? []) as Record<string, unknown>[])
            : command === 'BatchGetItemCommand'
              ? Object.values((output.Responses ?? {}) as Record<string, Record<string, unknown>[]>).flat()
              : ((output.Responses ?? []) as { Item?: Record<string, unknown> }[]).flatMap((r) => (r.Item ? [r.Item] : []));
      const prefixes = [...new Set(pks.map(prefixOf))];
      const share = units(output, 'read') / prefixes.length;
      for (const prefix of prefixes) {
        const t = this.tally(prefix);
        t.reads += 1;
        t.readUnits += share;
        if (prefixes.length === 1) {
          t.itemsRead += items.length;
          for (const item of items) t.bytesRead += itemBytes(item);
        }
      }
    }
  }

  /** Zeroes every count. */
  reset(): void {
    this.tallies.clear();
    this.perSecond.clear();
    this.keys.clear();
    this.items.clear();
  }

  summary(): MeterSummary {
    let max: { pk: string; units: number } | null = null;
    for (const [slot, u] of this.perSecond) {
      if (!max || u > max.units) max = { pk: slot.split('\n')[0]!, units: u };
    }
    return { byPrefix: Object.fromEntries([...this.tallies].map(([k, v]) => [k, { ...v }])), maxKeyWriteUnitsPerSecond: max, keysWritten: this.keys.size, itemsWritten: this.items.size };
  }
}
