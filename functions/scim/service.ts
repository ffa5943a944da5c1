// SCIM HTTP layer --> handleScim: one request of /scim/v2 --> ScimStore (DynamoDB) + people + reconcile queue
// Answers come from the store alone: a write stores the resource, writes its person(s) and queues the targets
// its source may feed with `scim.debounceSeconds` of delay. Losant is never called here.
import type { SyncConfig } from '../config/sync-config.schema.ts';
import type { Clock, LeaseStore, Log, ReconcileQueue } from '../sync/ports.ts';
import { acceptsChannel, feedsTarget, sourcePolicy } from '../sync/sources.ts';
import { maskEmails } from '../sync/email.ts';
import { RECONCILE_QUEUE_FAILURES } from '../runtime/metric-names.ts';
import type { MetricsSink } from '../runtime/metrics.ts';
import { LIST_RESPONSE_SCHEMA, ScimError } from './errors.ts';
import { scimFail } from './fail.ts';
import { filterMatches, indexedTerms, keyOf, pageWindow, parseFilter, parsePath } from './filter.ts';
import type { ScimFilter } from './filter.ts';
import { applyPatch } from './patch.ts';
import { scimUserToPerson, SCIM_IDENTITY_PREFIX } from './person.ts';
import { project } from './projection.ts';
import { resourceTypes, schemaDocuments, serviceProviderConfig } from './discovery.ts';
import { parseGroup, parseUser, replaceResource, toScimGroup, toScimUser } from './resources.ts';
import type { ScimGroup, ScimGroupRef, ScimUser } from './resources.ts';
import type { ScimCaller } from './auth.ts';
import { etagOf } from './ports.ts';
import type { ScimKind, ScimStore, StoredResource } from './ports.ts';

export interface ScimServiceDeps {
  scim: ScimStore;
  config: Pick<SyncConfig, 'targets' | 'sources' | 'scim'>;
  queue: ReconcileQueue;
  /** marks targets dirty; notes the source's last delivery (SourceSilent / plan's Sources block) when it can */
  leases: Pick<LeaseStore, 'markDirty'> & { noteSourceDelivery?(source: string, at: string): Promise<void> };
  clock: Clock;
  log: Log;
  metrics: MetricsSink;
}

export interface ScimRequest {
  method: string;
  /** the path below the base, e.g. `/Users/abc` */
  path: string;
  query: Record<string, string | undefined>;
  /** the parsed JSON body (writes) */
  body?: unknown;
  ifMatch?: string | undefined;
  /** absolute URL of `/scim/v2` (meta.location, Location) */
  baseUrl: string;
  caller: ScimCaller;
}

export interface ScimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const KIND_OF: Record<string, ScimKind> = { users: 'User', groups: 'Group' };

type Stored = ScimUser | ScimGroup;

/** The stored resource as the protocol code reads it: its attributes plus `id` and `meta`. */
export function asScim(r: StoredResource): Stored {
  return { ...(r.doc as object), id: r.id, meta: { resourceType: r.kind, created: r.created, lastModified: r.lastModified, version: etagOf(r.version) } } as Stored;
}

/** What the store keeps of a resource the protocol code returned (no `id`, `meta`, `schemas`, read-only `groups`). */
function docOf(resource: object): Record<string, unknown> {
  const { id: _id, meta: _meta, schemas: _schemas, groups: _groups, ...doc } = resource as Record<string, unknown>;
  return doc;
}

/** What a group PUT or PATCH names: member ids (a PUT's members; PATCH values and `members[value eq "…"]` paths), and whether it sets displayName. */
function namedMembers(body: unknown, method: 'PUT' | 'PATCH'): { ids: string[]; displayName: boolean } {
  const ids = new Set<string>();
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const get = (o: Record<string, unknown>, name: string): unknown => {
    const k = keyOf(o, name);
    return k === undefined ? undefined : o[k];
  };
  const values = (v: unknown): void => {
    for (const m of Array.isArray(v) ? v : [v]) {
      const value = isObject(m) ? get(m, 'value') : undefined;
      if (typeof value === 'string') ids.add(value);
    }
  };
  // every `value eq "…"` of a value filter, whatever joins them
  const filterValues = (f: ScimFilter): void => {
    if (f.op === 'and' || f.op === 'or') {
      filterValues(f.left);
      filterValues(f.right);
    } else if (f.op === 'not') filterValues(f.filter);
    else if (f.op === 'eq' && typeof f.value === 'string' && f.path.attr.toLowerCase() === 'value') ids.add(f.value);
  };
  const b = isObject(body) ? body : {};
  if (method === 'PUT') {
    values(get(b, 'members'));
    return { ids: [...ids], displayName: true };
  }
  let displayName = false;
  const ops = get(b, 'Operations');
  for (const op of Array.isArray(ops) ? (ops as unknown[]) : []) {
    if (!isObject(op)) continue;
    const path = get(op, 'path');
    const value = get(op, 'value');
    if (typeof path !== 'string' || path.trim() === '') {
      if (isObject(value)) {
        values(get(value, 'members'));
        if (get(value, 'displayName') !== undefined) displayName = true;
      }
      continue;
    }
    // an extension URN alone is no attribute path (applyPatch applies it apart): it names no member
    let parsed: ReturnType<typeof parsePath>;
    try {
      parsed = parsePath(path.trim());
    } catch {
      continue;
    }
    const attr = parsed.path.attr.toLowerCase();
    if (attr === 'members') {
      values(value);
      if (parsed.filter !== undefined) filterValues(parsed.filter);
    } else if (attr === 'displayname') displayName = true;
  }
  return { ids: [...ids], displayName };
}

/** Member ids of a group document. */
function memberIds(doc: Record<string, unknown>): string[] {
  const members = Array.isArray(doc.members) ? (doc.members as { value?: unknown }[]) : [];
  return [...new Set(members.map((m) => m.value).filter((v): v is string => typeof v === 'string'))];
}

/**
 * Serves one SCIM request for an authenticated caller. Throws nothing but unexpected failures: protocol
 * errors come back as their SCIM status (the HTTP layer renders `scimErrorBody`).
 * @example await handleScim(deps, { method: 'GET', path: '/Users', query: {}, baseUrl, caller })
 */
export async function handleScim(deps: ScimServiceDeps, req: ScimRequest): Promise<ScimResponse> {
  try {
    return await route(deps, req);
  } catch (err) {
    if (err instanceof ScimError) return { status: err.status, body: err };
    throw err;
  }
}

async function route(deps: ScimServiceDeps, req: ScimRequest): Promise<ScimResponse> {
  const parts = req.path.split('/').filter((p) => p.length > 0);
  const method = req.method.toUpperCase();
  const [first = '', id, extra] = parts;
  const top = first.toLowerCase();
  if (top === 'serviceproviderconfig' || top === 'resourcetypes' || top === 'schemas') {
    if (method !== 'GET') throw scimFail(405, undefined, `use GET on /${first}`);
    if (top === 'serviceproviderconfig' && parts.length === 1) return { status: 200, body: serviceProviderConfig(req.baseUrl) };
    const docs: { id: string }[] = top === 'resourcetypes' ? resourceTypes(req.baseUrl) : top === 'schemas' ? schemaDocuments(req.baseUrl) : [];
    if (parts.length === 1) return { status: 200, body: listBody(docs) };
    const doc = parts.length === 2 ? docs.find((d) => d.id === decodeURIComponent(id ?? '')) : undefined;
    if (!doc) throw scimFail(404, undefined, `no ${first} ${id ?? ''}`);
    return { status: 200, body: doc };
  }
  const kind = KIND_OF[top];
  if (!kind || extra !== undefined) throw scimFail(404, undefined, `no endpoint ${req.path}`);
  if (id === undefined) {
    if (method === 'GET') return list(deps, req, kind);
    if (method === 'POST') return create(deps, req, kind);
    throw scimFail(405, undefined, `use GET or POST on /${first}`);
  }
  if (method === 'GET') return getOne(deps, req, kind, id);
  if (method === 'PUT' || method === 'PATCH') return write(deps, req, kind, id, method);
  if (method === 'DELETE') return remove(deps, req, kind, id);
  throw scimFail(405, undefined, `use GET, PUT, PATCH or DELETE on /${first}/{id}`);
}

function listBody(resources: readonly unknown[]) {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources };
}

function projection(req: ScimRequest): { attributes?: string; excludedAttributes?: string } {
  return {
    ...(req.query.attributes ? { attributes: req.query.attributes } : {}),
    ...(req.query.excludedAttributes ? { excludedAttributes: req.query.excludedAttributes } : {}),
  };
}

async function render(deps: ScimServiceDeps, req: ScimRequest, r: StoredResource, known?: ScimGroupRef[]): Promise<Record<string, unknown>> {
  if (r.kind === 'Group') return toScimGroup(asScim(r) as ScimGroup, req.baseUrl) as unknown as Record<string, unknown>;
  const groups = known ?? (await groupRefs(deps, req.caller.source, r.id));
  return toScimUser(asScim(r) as ScimUser, req.baseUrl, groups) as unknown as Record<string, unknown>;
}

async function groupRefs(deps: ScimServiceDeps, source: string, userId: string): Promise<ScimGroupRef[]> {
  const ids = await deps.scim.groupsOf(source, userId);
  const groups = await Promise.all(ids.map((g) => deps.scim.get(source, 'Group', g, { members: false })));
  return groups.filter((g): g is StoredResource => g !== null).map((g) => ({ value: g.id, display: String(g.doc.displayName ?? '') }));
}

function one(status: number, r: StoredResource, body: unknown, req: ScimRequest, created = false): ScimResponse {
  const headers: Record<string, string> = { etag: etagOf(r.version) };
  if (created) headers.location = `${req.baseUrl.replace(/\/+$/, '')}/${r.kind === 'User' ? 'Users' : 'Groups'}/${r.id}`;
  return { status, body, headers };
}

async function list(deps: ScimServiceDeps, req: ScimRequest, kind: ScimKind): Promise<ScimResponse> {
  const { startIndex, count } = pageWindow({ startIndex: req.query.startIndex, count: req.query.count });
  let filter: ScimFilter | undefined;
  if (req.query.filter !== undefined && req.query.filter.trim() !== '') filter = parseFilter(req.query.filter);
  const page = await deps.scim.list(req.caller.source, kind, {
    startIndex,
    count,
    ...(filter ? { indexed: indexedTerms(filter), matches: (r: StoredResource) => filterMatches(asScim(r), filter) } : {}),
    ...(kind === 'Group' && !listNeedsMembers(req) ? { members: false } : {}),
  });
  // a user list does not read every user's memberships: `groups` is on GET /Users/{id}
  const resources = page.resources.map((r) =>
    project((r.kind === 'Group' ? toScimGroup(asScim(r) as ScimGroup, req.baseUrl) : toScimUser(asScim(r) as ScimUser, req.baseUrl)) as unknown as Record<string, unknown>, projection(req)),
  );
  return { status: 200, body: { schemas: [LIST_RESPONSE_SCHEMA], totalResults: page.totalResults, startIndex, itemsPerPage: resources.length, Resources: resources } };
}

/**
 * Whether a group list must read its groups' members: not when the answer excludes them (`excludedAttributes=members`,
 * as Entra and Okta ask) and the filter does not name them.
 */
function listNeedsMembers(req: ScimRequest): boolean {
  if (req.query.attributes) return true;
  const excluded = (req.query.excludedAttributes ?? '').split(',').map((a) => a.trim().toLowerCase());
  if (!excluded.some((a) => a === 'members' || a.endsWith(':group:members'))) return true;
  return /members/i.test(req.query.filter ?? '');
}

async function getOne(deps: ScimServiceDeps, req: ScimRequest, kind: ScimKind, id: string): Promise<ScimResponse> {
  const r = await deps.scim.get(req.caller.source, kind, id);
  if (!r) throw scimFail(404, undefined, `${kind} ${id} not found`);
  return one(200, r, project(await render(deps, req, r), projection(req)), req);
}

/** The caller's source must accept the `scim` channel (sources.<name>.via). */
function checkChannel(deps: ScimServiceDeps, source: string): void {
  if (!acceptsChannel(sourcePolicy(deps.config.sources, source), 'scim')) {
    throw scimFail(403, undefined, `source ${source} does not accept SCIM (sources.${source}.via)`);
  }
}

async function create(deps: ScimServiceDeps, req: ScimRequest, kind: ScimKind): Promise<ScimResponse> {
  const source = req.caller.source;
  checkChannel(deps, source);
  if (kind === 'User') {
    const input = parseUser(req.body);
    // refuse a user that cannot be a person (no email) before storing anything
    scimUserToPerson({ ...input, id: 'new', meta: { resourceType: 'User', created: '', lastModified: '', version: '' } }, []);
    const r = await deps.scim.create(source, 'User', docOf(input)).catch(async (err: unknown) => {
      if (err instanceof ScimError && err.scimType === 'uniqueness') await repairLostPerson(deps, source, input.userName);
      throw err;
    });
    // a new user is in no group yet
    await writeUserPerson(deps, source, r, []);
    await queueTargets(deps, source, `scim POST User`);
    return one(201, r, await render(deps, req, r, []), req, true);
  }
  const input = parseGroup(req.body);
  const r = await deps.scim.create(source, 'Group', docOf(input));
  const members = memberIds(r.doc);
  await deps.scim.setMemberships(source, r.id, members, []);
  if (members.length) {
    await writePeople(deps, source, members);
    await queueTargets(deps, source, 'scim POST Group');
  }
  return one(201, r, await render(deps, req, r), req, true);
}

async function write(deps: ScimServiceDeps, req: ScimRequest, kind: ScimKind, id: string, method: 'PUT' | 'PATCH'): Promise<ScimResponse> {
  const source = req.caller.source;
  checkChannel(deps, source);
  const { before, after } = await deps.scim.update(
    source,
    kind,
    id,
    (current) => {
      const stored = asScim(current);
      const next = method === 'PUT' ? replaceResource(stored, req.body, kind) : applyPatch(stored, req.body, kind);
      const doc = docOf(next);
      if (kind === 'User') scimUserToPerson({ ...(doc as unknown as ScimUser), id, meta: stored.meta }, []);
      return doc;
    },
    { ifMatch: req.ifMatch },
  );
  let groups: ScimGroupRef[] | undefined;
  if (kind === 'User') {
    groups = await groupRefs(deps, source, id);
    await writeUserPerson(deps, source, after, groups.map((g) => g.display ?? ''));
    await queueTargets(deps, source, `scim ${method} User`);
  } else {
    const was = new Set(memberIds(before.doc));
    const now = new Set(memberIds(after.doc));
    const added = [...now].filter((m) => !was.has(m));
    const removed = [...was].filter((m) => !now.has(m));
    await deps.scim.setMemberships(source, id, added, removed);
    // a rename changes every member's `groups`; the members the request names are written again even when the
    // group already holds the change: the IdP's retry of a write that stopped after storing the group (its
    // diff is empty then) must still reach the people the first attempt did not
    const named = namedMembers(req.body, method);
    const renamed = before.doc.displayName !== after.doc.displayName || named.displayName;
    const touched = renamed ? [...new Set([...now, ...removed])] : [...new Set([...added, ...removed, ...named.ids])];
    if (touched.length) {
      await writePeople(deps, source, touched);
      await queueTargets(deps, source, `scim ${method} Group`);
    }
  }
  return one(200, after, project(await render(deps, req, after, groups), projection(req)), req);
}

async function remove(deps: ScimServiceDeps, req: ScimRequest, kind: ScimKind, id: string): Promise<ScimResponse> {
  const source = req.caller.source;
  checkChannel(deps, source);
  const deleted = await deps.scim.delete(source, kind, id, { ifMatch: req.ifMatch });
  if (kind === 'User') {
    // the person stays, terminated: a DELETE revokes like a deactivation
    const groups = await deps.scim.groupsOf(source, id);
    for (const g of groups) {
      try {
        await deps.scim.update(source, 'Group', g, (cur) => ({ ...cur.doc, members: (Array.isArray(cur.doc.members) ? (cur.doc.members as { value?: unknown }[]) : []).filter((m) => m.value !== id) }));
      } catch (err) {
        if (!(err instanceof ScimError && err.status === 404)) throw err;
      }
      await deps.scim.setMemberships(source, g, [], [id]);
    }
    const stored = asScim(deleted) as ScimUser;
    const person = { ...scimUserToPerson(stored, []), status: 'terminated' as const };
    await deps.scim.putPerson(source, `${SCIM_IDENTITY_PREFIX}${id}`, person, laterThan(deps, deleted.lastModified));
  } else {
    const members = memberIds(deleted.doc);
    await deps.scim.setMemberships(source, id, [], members);
    await writePeople(deps, source, members);
  }
  await queueTargets(deps, source, `scim DELETE ${kind}`);
  return { status: 204 };
}

/** Now, or 1 ms after `iso` when the clock has not passed it. */
function laterThan(deps: ScimServiceDeps, iso: string): string {
  const now = deps.clock.now();
  const t = Date.parse(iso);
  return new Date(Number.isNaN(t) || now > t ? now : t + 1).toISOString();
}

/**
 * A create stores the user, then its person: when the person write fails (DynamoDB throttled, the function
 * stopped), the IdP's retry of the POST meets its own user (409 `uniqueness`) and the user would never be a
 * person, so never invited. Before that 409 goes out, the user holding the userName gets its person if it has none.
 */
async function repairLostPerson(deps: ScimServiceDeps, source: string, userName: string): Promise<void> {
  const id = await deps.scim.holderOf(source, 'User', 'userName', userName);
  if (id === undefined || (await deps.scim.hasPerson(source, `${SCIM_IDENTITY_PREFIX}${id}`))) return;
  const user = await deps.scim.get(source, 'User', id);
  if (!user) return;
  const groups = await groupRefs(deps, source, id);
  await writeUserPerson(deps, source, user, groups.map((g) => g.display ?? ''));
  await queueTargets(deps, source, 'scim POST User (person a failed create left out)');
  deps.log.warn('SCIM create met a user without its person (an earlier create failed after storing the user): person written', { source, id });
}

/** Writes the person of one user whose resource and group names are at hand (lastEventAt: its lastModified). */
async function writeUserPerson(deps: ScimServiceDeps, source: string, user: StoredResource, groupNames: readonly string[]): Promise<void> {
  const person = scimUserToPerson(asScim(user) as ScimUser, groupNames.filter((n) => n !== ''));
  await deps.scim.putPerson(source, `${SCIM_IDENTITY_PREFIX}${user.id}`, person, user.lastModified);
}

/** Members whose people are re-written at once (a group change touches each member). */
const PERSON_WRITES_IN_FLIGHT = 8;

/** Writes the person of each user (its groups' names included), with the user's lastModified as its event time. */
async function writePeople(deps: ScimServiceDeps, source: string, userIds: readonly string[]): Promise<void> {
  const names = new Map<string, Promise<string | undefined>>();
  const groupName = (g: string): Promise<string | undefined> => {
    let name = names.get(g);
    if (!name) {
      name = deps.scim.get(source, 'Group', g, { members: false }).then((r) => (typeof r?.doc.displayName === 'string' ? r.doc.displayName : undefined));
      names.set(g, name);
    }
    return name;
  };
  const writeOne = async (userId: string): Promise<void> => {
    const user = await deps.scim.get(source, 'User', userId);
    if (!user) return;
    const groupNames = (await Promise.all((await deps.scim.groupsOf(source, userId)).map(groupName))).filter((n): n is string => n !== undefined);
    await writeUserPerson(deps, source, user, groupNames);
  };
  for (let i = 0; i < userIds.length; i += PERSON_WRITES_IN_FLIGHT) await Promise.all(userIds.slice(i, i + PERSON_WRITES_IN_FLIGHT).map(writeOne));
}

/** Marks the source's targets dirty and queues them after the debounce; a queue failure is logged and counted, not answered. */
async function queueTargets(deps: ScimServiceDeps, source: string, reason: string): Promise<void> {
  // a SCIM write is a delivery of its source: maxSilenceHours watches SCIM sources too
  await deps.leases.noteSourceDelivery?.(source, new Date(deps.clock.now()).toISOString());
  const policy = sourcePolicy(deps.config.sources, source);
  const targets = deps.config.targets.filter((t) => feedsTarget(policy, t.name));
  if (targets.length === 0) return;
  await deps.leases.markDirty(targets);
  try {
    await deps.queue.enqueue(
      targets.map((t) => t.name),
      reason,
      { delaySeconds: deps.config.scim.debounceSeconds, trigger: 'scim' },
    );
  } catch (err) {
    deps.log.error('could not queue the targets of a SCIM write; the next schedule reconciles them', { source, error: maskEmails((err as Error).message) });
    deps.metrics.addMetric(RECONCILE_QUEUE_FAILURES, 'Count', 1);
    deps.metrics.publishStoredMetrics();
  }
}
