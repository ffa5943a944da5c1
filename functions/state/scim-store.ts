// SCIM service --> ScimStore port --> DynamoScimStore --> StateTable
// Items (see keys.ts): resource (pk `SCIM#<source>#<kind>`, sk `<id>`), unique value
// (pk `SCIMIDX#<source>#<kind>`, sk `<attr>#<lower-cased value>`, written in the same transaction as the
// resource), membership (pk `SCIMMEMBER#<source>#<userId>`, sk `<groupId>`), group member (pk
// `SCIMGROUPMEMBER#<source>#<groupId>`, sk `<member value>`).
//
// A group's members live in group-member items, not in its document: a document is one item and items are
// capped at 400 KB, which held ~6 000 members (a PATCH past that failed with a 500 the IdP retried forever).
// The store splits them out on every group write and puts them back on every read, so the SCIM service sees
// whole documents. The member items that changed go in the document's own transaction when they fit (100
// actions), so the version condition covers them; a larger change puts the document first (its version
// condition decides the race), then the member items; a larger create puts its member items first (the new
// id is unseen until the document exists) and removes them when the create is refused.
// Groups the landed version wrote keep their members in the document (no `membersApart`) until their next write.
import { randomBytes } from 'node:crypto';
import type { ListPage, ListQuery, ReadOptions, ScimKind, ScimStore, StoredResource, UniqueAttr, WriteOptions } from '../scim/ports.ts';
import { etagOf } from '../scim/ports.ts';
import { scimFail } from '../scim/fail.ts';
import type { Person } from '../sync/types.ts';
import { ScimGroupMemberItemSchema, ScimMemberItemSchema, ScimResourceItemSchema, ScimUniqueItemSchema } from './scim-items.schema.ts';
import type { ScimResourceItem } from './scim-items.schema.ts';
import { describeKey, keys } from './keys.ts';
import { StateError } from '../sync/errors.ts';
import type { DynamoPeopleStore } from './people-store.ts';
import type { StateTable, TransactItem } from './table.ts';
import { mapLimit } from './concurrency.ts';
import type { DynamoStateStore } from './dynamo-store.ts';

/** Largest page a list returns (RFC 7644 §3.4.2.4 lets the server cap `count`; advertised in ServiceProviderConfig). */
export const SCIM_STORE_MAX_PAGE = 200;
const WRITE_ATTEMPTS = 5;

const UNIQUE: Record<ScimKind, readonly UniqueAttr[]> = { User: ['userName', 'externalId'], Group: ['displayName'] };

/** A server-assigned id: 16 random bytes, base64url (case-sensitive, never reused). */
export function newScimId(): string {
  return randomBytes(16).toString('base64url');
}

/** The doc's unique values (lower-cased), by attribute; absent or non-string values are not indexed. */
function uniqueValues(kind: ScimKind, doc: Record<string, unknown>): Map<UniqueAttr, string> {
  const out = new Map<UniqueAttr, string>();
  for (const attr of UNIQUE[kind]) {
    const v = doc[attr];
    if (typeof v === 'string' && v.length > 0) out.set(attr, v.toLowerCase());
  }
  return out;
}

/** TransactWriteItems takes at most 100 actions: member changes that fit go in the group's own transaction. */
const TRANSACTION_ACTIONS = 100;

/** Groups whose member items a list reads at once. */
const GROUP_READS_IN_FLIGHT = 8;

/** A group's stored member items: member value → its JSON and its place (members come back in that order). */
type MemberItems = Map<string, { json: string; n: number }>;

/** What a group write stores: the document without its members, the member items to put or delete, and the whole document. */
interface GroupWrite {
  stored: Record<string, unknown>;
  writes: Parameters<StateTable['batchWriteAll']>[1];
  doc: Record<string, unknown>;
}

/**
 * Splits a group document's members out: each member with a string `value` becomes (or stays) an item (the
 * first of a repeated value wins); a member without one stays in the document, which keeps `members` (maybe
 * empty) when it had them. New members are placed after every stored one.
 */
function groupWrite(source: string, groupId: string, doc: Record<string, unknown>, items: MemberItems): GroupWrite {
  const { members, ...rest } = doc;
  const keyed = new Map<string, string>();
  const inline: unknown[] = [];
  for (const m of Array.isArray(members) ? (members as unknown[]) : []) {
    const value = m !== null && typeof m === 'object' ? (m as { value?: unknown }).value : undefined;
    if (typeof value === 'string' && value !== '') {
      if (!keyed.has(value)) keyed.set(value, JSON.stringify(m));
    } else inline.push(m);
  }
  const stored: Record<string, unknown> = Array.isArray(members) ? { ...rest, members: inline } : rest;
  let next = 0;
  for (const item of items.values()) next = Math.max(next, item.n + 1);
  const final: MemberItems = new Map();
  const writes: GroupWrite['writes'] = [];
  for (const [value, json] of keyed) {
    const had = items.get(value);
    const n = had?.n ?? next++;
    final.set(value, { json, n });
    if (had?.json !== json) writes.push({ PutRequest: { Item: { ...keys.scimGroupMember(source, groupId, value), member: json, n } } });
  }
  for (const value of items.keys()) if (!keyed.has(value)) writes.push({ DeleteRequest: { Key: keys.scimGroupMember(source, groupId, value) } });
  return { stored, writes, doc: withMembers(stored, final) };
}

/** The document with its member items put back in place order (then any members kept in the document). */
function withMembers(doc: Record<string, unknown>, items: MemberItems): Record<string, unknown> {
  if (items.size === 0) return doc;
  const ordered = [...items].sort(([va, a], [vb, b]) => a.n - b.n || (va < vb ? -1 : va > vb ? 1 : 0)).map(([, m]) => JSON.parse(m.json) as unknown);
  const inline = Array.isArray(doc.members) ? (doc.members as unknown[]) : [];
  return { ...doc, members: [...ordered, ...inline] };
}

function matchesIfMatch(ifMatch: string | undefined, version: number): boolean {
  if (ifMatch === undefined) return true;
  const tags = ifMatch.split(',').map((t) => t.trim());
  return tags.some((t) => t === '*' || t === etagOf(version) || t === `"${version}"`);
}

/**
 * The SCIM store over a DynamoStateStore's table and people (the SCIM service's; it holds no state of
 * its own, so each call may build one).
 * @example const scim = scimStoreOf(new DynamoStateStore({ tableName }))
 */
export function scimStoreOf(store: Pick<DynamoStateStore, 'table' | 'people'>): DynamoScimStore {
  return new DynamoScimStore(store.table, store.people);
}

/**
 * The DynamoDB implementation of the `ScimStore` port.
 * @example const scim = new DynamoScimStore(table, people); const u = await scim.create('okta', 'User', { userName: 'jane' })
 */
export class DynamoScimStore implements ScimStore {
  private readonly table: StateTable;
  private readonly people: DynamoPeopleStore;

  constructor(table: StateTable, people: DynamoPeopleStore) {
    this.table = table;
    this.people = people;
  }

  async create(source: string, kind: ScimKind, doc: Record<string, unknown>): Promise<StoredResource> {
    const now = new Date(this.table.now()).toISOString();
    const id = newScimId();
    const group = kind === 'Group' ? groupWrite(source, id, doc, new Map()) : undefined;
    const resource: StoredResource = { id, kind, doc: group?.doc ?? doc, version: 1, created: now, lastModified: now };
    const TableName = this.table.tableName;
    const unique = uniqueValues(kind, doc);
    const inline = group !== undefined && 1 + unique.size + group.writes.length <= TRANSACTION_ACTIONS;
    if (group !== undefined && !inline && group.writes.length > 0) await this.writeMembers(group.writes);
    const actions: TransactItem[] = [
      { Put: { TableName, Item: this.item(source, resource, group?.stored), ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } } },
      ...(inline ? this.memberActions(group.writes) : []),
      ...[...unique].map(([attr, value]) => ({
        Put: {
          TableName,
          Item: { ...keys.scimUnique(source, kind, attr, value), id: resource.id },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        },
      })),
    ];
    const outcome = await this.table.guard('scimCreate', () => this.table.transactSettling(actions, WRITE_ATTEMPTS, 20, 500));
    if (outcome !== 'ok') {
      // the member items of a group that was never made: nothing reads them, so a failure here only leaves them
      if (group !== undefined && !inline && group.writes.length > 0) await this.writeMembers(group.writes.map((w) => ({ DeleteRequest: { Key: { pk: w.PutRequest?.Item?.pk as string, sk: w.PutRequest?.Item?.sk as string } } }))).catch(() => undefined);
      // another transaction held one of its values to the last attempt (a create of the same value at once)
      if (outcome === 'conflict') throw scimFail(409, undefined, 'another write held this resource\'s values; retry');
      throw await this.uniquenessError(source, kind, unique);
    }
    return resource;
  }

  async get(source: string, kind: ScimKind, id: string, opts: ReadOptions = {}): Promise<StoredResource | null> {
    return (await this.read(source, kind, id, opts.members !== false))?.resource ?? null;
  }

  /** The resource (a group with its members unless `members` is false) and a group's stored member items. */
  private async read(source: string, kind: ScimKind, id: string, members = true): Promise<{ resource: StoredResource; items: MemberItems } | null> {
    return this.table.guard('scimGet', async () => {
      const item = await this.table.getItem(ScimResourceItemSchema, keys.scimResource(source, kind, id), 'SCIM resource');
      return item ? this.withItems(source, item, members) : null;
    });
  }

  /** The item as a resource, a group with its member items put back (unless `members` is false), and those items. */
  private async withItems(source: string, item: ScimResourceItem, members: boolean): Promise<{ resource: StoredResource; items: MemberItems }> {
    const resource = this.toResource(item);
    const items: MemberItems = members ? await this.memberItems(source, item) : new Map();
    return { resource: items.size > 0 ? { ...resource, doc: withMembers(resource.doc, items) } : resource, items };
  }

  /** A group's member items (none for a user, or for a group the landed version wrote). */
  private async memberItems(source: string, item: ScimResourceItem): Promise<MemberItems> {
    const out: MemberItems = new Map();
    if (item.kind !== 'Group' || item.membersApart !== true) return out;
    const raw = await this.table.queryAll({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': keys.scimGroupMemberPk(source, item.id) },
      ConsistentRead: true,
    });
    for (const r of raw) {
      const m = this.table.parse(ScimGroupMemberItemSchema, r, 'SCIM group member', r);
      out.set(m.sk, { json: m.member, n: m.n });
    }
    return out;
  }

  /** Member item writes as transaction actions. */
  private memberActions(writes: GroupWrite['writes']): TransactItem[] {
    const TableName = this.table.tableName;
    return writes.map((w) => (w.PutRequest ? { Put: { TableName, Item: w.PutRequest.Item! } } : { Delete: { TableName, Key: w.DeleteRequest!.Key! } }));
  }

  private async writeMembers(writes: GroupWrite['writes']): Promise<void> {
    await this.table.guard('scimGroupMembers', () => this.table.batchWriteAll('scimGroupMembers', writes));
  }

  async replace(source: string, kind: ScimKind, id: string, doc: Record<string, unknown>, opts: WriteOptions = {}): Promise<StoredResource> {
    return (await this.update(source, kind, id, () => doc, opts)).after;
  }

  async update(
    source: string,
    kind: ScimKind,
    id: string,
    change: (current: StoredResource) => Record<string, unknown>,
    opts: WriteOptions = {},
  ): Promise<{ before: StoredResource; after: StoredResource }> {
    for (let attempt = 1; ; attempt += 1) {
      const { resource: before, items: memberItems } = await this.mustRead(source, kind, id);
      if (!matchesIfMatch(opts.ifMatch, before.version)) throw scimFail(412, undefined, `If-Match does not name the current version ${etagOf(before.version)}`);
      const doc = change(before);
      const group = kind === 'Group' ? groupWrite(source, id, doc, memberItems) : undefined;
      const after: StoredResource = { ...before, doc: group?.doc ?? doc, version: before.version + 1, lastModified: this.laterIso(before.lastModified) };
      const was = uniqueValues(kind, before.doc);
      const will = uniqueValues(kind, doc);
      const TableName = this.table.tableName;
      const items = [
        {
          Put: {
            TableName,
            Item: this.item(source, after, group?.stored),
            ConditionExpression: '#v = :seen',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':seen': before.version },
          },
        },
      ] as NonNullable<Parameters<StateTable['transactWrite']>[0]>;
      const added = new Map<UniqueAttr, string>();
      for (const attr of UNIQUE[kind]) {
        const old = was.get(attr);
        const next = will.get(attr);
        if (old === next) continue;
        if (old !== undefined) {
          items.push({
            Delete: {
              TableName,
              Key: keys.scimUnique(source, kind, attr, old),
              ConditionExpression: '#id = :id',
              ExpressionAttributeNames: { '#id': 'id' },
              ExpressionAttributeValues: { ':id': id },
            },
          });
        }
        if (next !== undefined) {
          added.set(attr, next);
          items.push({
            Put: {
              TableName,
              Item: { ...keys.scimUnique(source, kind, attr, next), id },
              ConditionExpression: 'attribute_not_exists(#pk) OR #id = :id',
              ExpressionAttributeNames: { '#pk': 'pk', '#id': 'id' },
              ExpressionAttributeValues: { ':id': id },
            },
          });
        }
      }
      const inline = group !== undefined && items.length + group.writes.length <= TRANSACTION_ACTIONS;
      if (inline) items.push(...this.memberActions(group.writes));
      // another transaction holding one of its items (no condition failed) is waited out, never a 409 uniqueness
      const outcome = await this.table.guard('scimUpdate', () => this.table.transactSettling(items, WRITE_ATTEMPTS, 20, 500));
      if (outcome === 'conflict') throw scimFail(409, undefined, `${kind} ${id} kept changing; retry`);
      if (outcome === 'ok') {
        // the document's version moved first: a write failing here is retried by the IdP against that version
        if (group !== undefined && !inline && group.writes.length > 0) await this.writeMembers(group.writes);
        return { before, after };
      }
      const now = await this.get(source, kind, id);
      if (now === null) throw scimFail(404, undefined, `${kind} ${id} not found`);
      if (now.version === before.version) throw await this.uniquenessError(source, kind, added, id);
      // another write came between: If-Match named the version it replaced
      if (opts.ifMatch !== undefined && !matchesIfMatch(opts.ifMatch, now.version)) throw scimFail(412, undefined, `If-Match does not name the current version ${etagOf(now.version)}`);
      if (attempt >= WRITE_ATTEMPTS) throw scimFail(409, undefined, `${kind} ${id} kept changing; retry`);
    }
  }

  async delete(source: string, kind: ScimKind, id: string, opts: WriteOptions = {}): Promise<StoredResource> {
    for (let attempt = 1; ; attempt += 1) {
      const { resource: before, items: memberItems } = await this.mustRead(source, kind, id);
      if (!matchesIfMatch(opts.ifMatch, before.version)) throw scimFail(412, undefined, `If-Match does not name the current version ${etagOf(before.version)}`);
      const TableName = this.table.tableName;
      const ok = await this.table.guard('scimDelete', () =>
        this.table.transactWrite([
          {
            Delete: {
              TableName,
              Key: keys.scimResource(source, kind, id),
              ConditionExpression: '#v = :seen',
              ExpressionAttributeNames: { '#v': 'version' },
              ExpressionAttributeValues: { ':seen': before.version },
            },
          },
          ...[...uniqueValues(kind, before.doc)].map(([attr, value]) => ({
            Delete: {
              TableName,
              Key: keys.scimUnique(source, kind, attr, value),
              ConditionExpression: 'attribute_not_exists(#pk) OR #id = :id',
              ExpressionAttributeNames: { '#pk': 'pk', '#id': 'id' },
              ExpressionAttributeValues: { ':id': id },
            },
          })),
        ]),
      );
      if (ok) {
        if (memberItems.size > 0) await this.writeMembers([...memberItems.keys()].map((value) => ({ DeleteRequest: { Key: keys.scimGroupMember(source, id, value) } })));
        return before;
      }
      if (attempt >= WRITE_ATTEMPTS) throw scimFail(409, undefined, `${kind} ${id} kept changing; retry`);
    }
  }

  async list(source: string, kind: ScimKind, query: ListQuery): Promise<ListPage> {
    return this.table.guard('scimList', async () => {
      const candidates = await this.candidates(source, kind, query.indexed ?? [], query.members !== false);
      const matching = query.matches ? candidates.filter(query.matches) : candidates;
      matching.sort((a, b) => (a.created === b.created ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.created < b.created ? -1 : 1));
      const start = Math.max(1, Math.floor(query.startIndex));
      const count = Math.min(SCIM_STORE_MAX_PAGE, Math.max(0, Math.floor(query.count)));
      return { totalResults: matching.length, resources: matching.slice(start - 1, start - 1 + count) };
    });
  }

  async groupsOf(source: string, userId: string): Promise<string[]> {
    return this.table.guard('scimGroupsOf', async () => {
      const items = await this.table.queryAll({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': keys.scimMemberPk(source, userId) },
        ConsistentRead: true,
      });
      return items.map((raw) => this.table.parse(ScimMemberItemSchema, raw, 'SCIM membership', raw).sk);
    });
  }

  async setMemberships(source: string, groupId: string, added: readonly string[], removed: readonly string[]): Promise<void> {
    if (added.length === 0 && removed.length === 0) return;
    await this.table.guard('scimSetMemberships', () =>
      this.table.batchWriteAll('scimSetMemberships', [
        ...added.map((userId) => ({ PutRequest: { Item: { ...keys.scimMember(source, userId, groupId) } } })),
        ...removed.map((userId) => ({ DeleteRequest: { Key: keys.scimMember(source, userId, groupId) } })),
      ]),
    );
  }

  putPerson(source: string, identity: string, person: Person, lastEventAt: string): Promise<void> {
    return this.people.putIdentifiedPerson(source, identity, person, lastEventAt);
  }

  hasPerson(source: string, identity: string): Promise<boolean> {
    return this.people.hasIdentifiedPerson(source, identity);
  }

  async holderOf(source: string, kind: ScimKind, attr: string, value: string): Promise<string | undefined> {
    return this.table.guard('scimHolderOf', async () => (await this.table.getItem(ScimUniqueItemSchema, keys.scimUnique(source, kind, attr, value.toLowerCase()), 'SCIM unique value'))?.id);
  }

  /** Reads the resources an indexed term names (one lookup), or the whole kind of the source. */
  private async candidates(source: string, kind: ScimKind, indexed: readonly { attr: string; value: string }[], members: boolean): Promise<StoredResource[]> {
    for (const term of indexed) {
      const attr = term.attr.toLowerCase();
      if (attr === 'id') {
        const r = await this.get(source, kind, term.value, { members });
        return r ? [r] : [];
      }
      const unique = UNIQUE[kind].find((a) => a.toLowerCase() === attr);
      if (unique) {
        const hit = await this.table.getItem(ScimUniqueItemSchema, keys.scimUnique(source, kind, unique, term.value.toLowerCase()), 'SCIM unique value');
        if (!hit) return [];
        const r = await this.get(source, kind, hit.id, { members });
        return r ? [r] : [];
      }
    }
    const items = await this.table.queryAll({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': keys.scimResourcePk(source, kind) },
      ConsistentRead: true,
    });
    const parsed = items.map((raw) => this.table.parse(ScimResourceItemSchema, raw, 'SCIM resource', raw));
    return mapLimit(parsed, GROUP_READS_IN_FLIGHT, async (item) => (await this.withItems(source, item, members)).resource);
  }

  private async mustRead(source: string, kind: ScimKind, id: string): Promise<{ resource: StoredResource; items: MemberItems }> {
    const r = await this.read(source, kind, id);
    if (r === null) throw scimFail(404, undefined, `${kind} ${id} not found`);
    return r;
  }

  /** 409 `uniqueness` naming the first attribute whose value another resource holds. */
  private async uniquenessError(source: string, kind: ScimKind, values: Map<UniqueAttr, string>, self?: string): Promise<Error> {
    for (const [attr, value] of values) {
      const hit = await this.table.getItem(ScimUniqueItemSchema, keys.scimUnique(source, kind, attr, value), 'SCIM unique value');
      if (hit && hit.id !== self) return scimFail(409, 'uniqueness', `another ${kind} has this ${attr}`);
    }
    return scimFail(409, 'uniqueness', `another ${kind} has one of its unique values (${UNIQUE[kind].join(', ')}); retry`);
  }

  /** Now, or 1 ms after `previous` when the clock has not moved past it (lastModified only grows). */
  private laterIso(previous: string): string {
    const now = this.table.now();
    const prev = Date.parse(previous);
    return new Date(Number.isNaN(prev) || now > prev ? now : prev + 1).toISOString();
  }

  /** The resource item; a group's `stored` document is the one without its member items (groupWrite). */
  private item(source: string, r: StoredResource, stored?: Record<string, unknown>): ScimResourceItem {
    return {
      ...keys.scimResource(source, r.kind, r.id),
      id: r.id,
      kind: r.kind,
      doc: JSON.stringify(stored ?? r.doc),
      version: r.version,
      created: r.created,
      lastModified: r.lastModified,
      ...(stored !== undefined ? { membersApart: true } : {}),
    };
  }

  private toResource(item: ScimResourceItem): StoredResource {
    const doc = this.table.parseJson(item.doc, 'SCIM resource', item);
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new StateError(`malformed SCIM resource item (${describeKey(item)}): doc is not an object`);
    return { id: item.id, kind: item.kind, doc: doc as Record<string, unknown>, version: item.version, created: item.created, lastModified: item.lastModified };
  }
}
