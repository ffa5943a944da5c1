// emulator routes / direct test access --> state: instances → orgs → pending invites and members, in memory
import { randomBytes } from 'node:crypto';
import type { InviteSortField, ListQuery, Role } from './contract.ts';
import { globMatch } from './glob.ts';
import { CopyBudget, ItemsImage, type AnswerBody, type ImageItem } from './items-image.ts';

export type { AnswerBody } from './items-image.ts';
import { DEFAULT_ID, DEFAULT_TOKEN, resolveSeedTime, type EmulatorSeed } from './seed.ts';

/** Invites expire this long after their inviteDate. */
export const INVITE_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

export interface ResourceRole {
  resourceId: string;
  role: 'collaborate' | 'view' | 'none';
}

/** One pending invite exactly as the API answers it (`orgInvite.json`). */
export interface EmulatorInvite {
  id: string;
  email: string;
  role: Role;
  applicationRoles: ResourceRole[];
  dashboardRoles: ResourceRole[];
  inviteDate: string;
  /** milliseconds until the invite expires; 0 once it has */
  ttl: number;
  hasExpired: boolean;
  disallowTransfer: boolean;
}

/** One member exactly as the API answers it (`instanceOrgMember.json`). */
export interface EmulatorMember {
  instanceId: string;
  orgId: string;
  userId: string;
  email: string;
  role: Role;
}

/** The org object as GET org answers it (before `_type` / `_links`). */
export interface EmulatorOrg {
  id: string;
  orgId: string;
  instanceId: string;
  name: string;
  /** `member` absent: no member limit */
  limits: { member?: number };
  /** `pendingInviteCount`: every invite GET invites lists, expired ones included */
  summary: { memberCount: number; pendingInviteCount: number };
}

export interface NewInviteInput {
  email: string;
  role: Role;
  applicationRoles?: ResourceRole[];
  dashboardRoles?: ResourceRole[];
  disallowTransfer?: boolean;
  /** epoch ms; default now */
  inviteDateMs?: number;
  hasExpired?: boolean;
}

interface StoredInvite {
  id: string;
  email: string;
  role: Role;
  applicationRoles: ResourceRole[];
  dashboardRoles: ResourceRole[];
  disallowTransfer: boolean;
  inviteDateMs: number;
  /** set by a seed or addInvite; cleared by a resend */
  expiredOverride: boolean | undefined;
  /** creation order: breaks ties of equal sort keys */
  seq: number;
  /** the item's JSON in pieces (see ItemJson), per answer flavour; dropped whenever the invite changes */
  json: { plain?: ItemJson; links?: ItemJson };
}

/**
 * One invite's JSON as the collection answers it, cut around the only part that moves with the clock:
 * `head` ends with `"ttl":`, then the ttl's digits, then `live` (not expired) or `expired`.
 */
interface ItemJson {
  head: string;
  live: string;
  expired: string;
}

interface StoredOrg {
  id: string;
  /** lower-cased id of the instance the org belongs to */
  instanceId: string;
  /** every invite in ascending order of each sort field (ties: creation order); descending is the reverse */
  sorted: Record<InviteSortField, StoredInvite[]>;
  /** key: lower-cased email */
  byEmail: Map<string, Set<StoredInvite>>;
  /** bumped by every change to the invites; keys the answer cache */
  version: number;
  /** serialized item lists by query and flavour, valid for one version and one clock reading */
  answers: Map<string, { version: number; at: number; json: string; count: number }>;
  /** the unfiltered item lists as bytes, by flavour and order, kept up to date by inserts at either end (see ItemsImage) */
  images: Map<string, ItemsImage>;
  name: string;
  /** `limits.member`; undefined: no limit */
  memberLimit: number | undefined;
  invites: Map<string, StoredInvite>;
  /** key: lower-cased email */
  members: Map<string, { userId: string; email: string; role: Role }>;
}

/** Unknown instance, org or invite: the HTTP layer answers 404, direct calls throw it as is. */
export class EmulatorNotFoundError extends Error {
  constructor(readonly what: 'Instance' | 'Organization' | 'Invite' | 'Member' | 'User', id: string) {
    super(`${what} ${id} was not found`);
    this.name = 'EmulatorNotFoundError';
  }
}

/** A request the emulator refuses with 400 for the state it finds (a member twice, the org's last admin). */
export class EmulatorConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorConflictError';
  }
}

/** A direct state call that makes no sense for the current state (e.g. accepting an invite nobody has). */
export class EmulatorStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorStateError';
  }
}

const SORT_KEY: Record<InviteSortField, (i: StoredInvite) => string | number> = {
  email: (i) => i.email.toLowerCase(),
  role: (i) => i.role,
  inviteDate: (i) => i.inviteDateMs,
};

function compareKeys(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Ascending order of `field`, ties by creation order: the order GET answers (descending is its exact reverse). */
function compareBy(field: InviteSortField, a: StoredInvite, b: StoredInvite): number {
  const key = SORT_KEY[field];
  return compareKeys(key(a), key(b)) || a.seq - b.seq;
}

const SORT_FIELDS: readonly InviteSortField[] = ['email', 'role', 'inviteDate'];

/** Index of the first element of `list` not before `inv` (binary search; `list` is sorted by `field`). */
function lowerBound(list: readonly StoredInvite[], field: InviteSortField, inv: StoredInvite): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBy(field, list[mid] as StoredInvite, inv) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The JSON of a number as JSON.stringify writes it. */
const jsonNumber = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

/** Idle copies of the invite lists' bytes, over all orgs (see CopyBudget): a few large orgs' worth. */
const COPY_BUDGET_BYTES = 256 * 1024 * 1024;
const noop = (): void => undefined;

/** The emulator's whole mutable state. Every method is synchronous, so requests never interleave inside one. */
export class EmulatorState {
  readonly tokens = new Map<string, ReadonlySet<string>>();
  /** token → the email of the user it belongs to (seed `userEmail`; GET /me) */
  readonly tokenUsers = new Map<string, string>();
  /** Losant users by lower-cased email → user id: one id per person across every org */
  private readonly users = new Map<string, string>();
  private readonly instances = new Map<string, Map<string, StoredOrg>>();
  private readonly usedIds = new Set<string>();
  private seq = 0;
  private readonly copies = new CopyBudget(COPY_BUDGET_BYTES);

  constructor(
    seed: EmulatorSeed,
    private readonly now: () => number,
  ) {
    const startMs = now();
    for (const t of seed.tokens ?? [{ token: DEFAULT_TOKEN, scopes: ['all.Instance'] }]) {
      this.tokens.set(t.token, new Set(t.scopes));
      if (t.userEmail !== undefined) this.tokenUsers.set(t.token, t.userEmail);
    }
    const instances = seed.instances ?? [{ id: DEFAULT_ID, orgs: [{ id: DEFAULT_ID }] }];
    for (const inst of instances) {
      const orgs = new Map<string, StoredOrg>();
      this.instances.set(this.claimId(inst.id), orgs);
      for (const o of inst.orgs ?? []) {
        const org: StoredOrg = {
          id: o.id.toLowerCase(), instanceId: inst.id.toLowerCase(), name: o.name ?? `Organization ${o.id.toLowerCase()}`, memberLimit: o.memberLimit,
          invites: new Map(), members: new Map(), sorted: { email: [], role: [], inviteDate: [] }, byEmail: new Map(), version: 0, answers: new Map(), images: new Map(),
        };
        orgs.set(org.id, org);
        for (const inv of o.invites ?? []) {
          this.insertInvite(org, {
            email: inv.email,
            role: inv.role,
            inviteDateMs: inv.inviteDate === undefined ? undefined : resolveSeedTime(inv.inviteDate, startMs),
            hasExpired: inv.hasExpired,
          });
        }
        for (const m of o.members ?? []) org.members.set(m.email.toLowerCase(), { userId: this.userIdFor(m.email), email: m.email, role: m.role });
      }
    }
  }

  /** The user id of the person with this email (case-insensitive), made on first use. */
  userIdFor(email: string): string {
    const key = email.toLowerCase();
    let id = this.users.get(key);
    if (id === undefined) this.users.set(key, (id = this.newId()));
    return id;
  }

  /** The email of the user with this id, or undefined. */
  userEmail(userId: string): string | undefined {
    const wanted = userId.toLowerCase();
    for (const [email, id] of this.users) if (id === wanted) return email;
    return undefined;
  }

  /** GET /me: the user the token belongs to; EmulatorNotFoundError('User') when it belongs to none. */
  me(token: string): { id: string; email: string } {
    const email = this.tokenUsers.get(token);
    if (email === undefined) throw new EmulatorNotFoundError('User', 'of this token');
    return { id: this.userIdFor(email), email };
  }

  private storedMember(org: StoredOrg, userId: string): { userId: string; email: string; role: Role } {
    const wanted = userId.toLowerCase();
    for (const m of org.members.values()) if (m.userId === wanted) return m;
    throw new EmulatorNotFoundError('Member', userId);
  }

  private memberView(instanceId: string, org: StoredOrg, m: { userId: string; email: string; role: Role }): EmulatorMember {
    return { instanceId: instanceId.toLowerCase(), orgId: org.id, userId: m.userId, email: m.email, role: m.role };
  }

  /** GET one member by user id. */
  getMember(instanceId: string, orgId: string, userId: string): EmulatorMember {
    const org = this.org(instanceId, orgId);
    return this.memberView(instanceId, org, this.storedMember(org, userId));
  }

  /**
   * POST a member directly: by `userId` (a user the emulator knows, else 404 User) or by `email` (the
   * user is made when unknown). A person who is already a member: EmulatorConflictError (400).
   */
  addMember(instanceId: string, orgId: string, body: { userId?: string; email?: string; role: Role }): EmulatorMember {
    const org = this.org(instanceId, orgId);
    const email = body.userId !== undefined ? this.userEmail(body.userId) : body.email;
    if (email === undefined) throw new EmulatorNotFoundError('User', body.userId ?? '');
    if (org.members.has(email.toLowerCase())) throw new EmulatorConflictError('that user is already a member of the organization');
    const m = { userId: this.userIdFor(email), email, role: body.role };
    org.members.set(email.toLowerCase(), m);
    return this.memberView(instanceId, org, m);
  }

  /** PATCH a member's role; the org's last admin cannot lose the role (EmulatorConflictError). */
  patchMember(instanceId: string, orgId: string, userId: string, body: { role?: Role }): EmulatorMember {
    const org = this.org(instanceId, orgId);
    const m = this.storedMember(org, userId);
    if (body.role !== undefined && body.role !== 'admin') this.keepAnAdmin(org, m);
    if (body.role !== undefined) m.role = body.role;
    return this.memberView(instanceId, org, m);
  }

  /** DELETE a member by user id; never the org's last admin (EmulatorConflictError). */
  deleteMember(instanceId: string, orgId: string, userId: string): void {
    const org = this.org(instanceId, orgId);
    const m = this.storedMember(org, userId);
    this.keepAnAdmin(org, m);
    org.members.delete(m.email.toLowerCase());
  }

  private keepAnAdmin(org: StoredOrg, leaving: { role: Role }): void {
    if (leaving.role !== 'admin') return;
    const admins = [...org.members.values()].filter((x) => x.role === 'admin').length;
    if (admins <= 1) throw new EmulatorConflictError('an organization must keep at least one admin');
  }

  /** A fresh 24-lowercase-hex id no other object of this emulator has. */
  newId(): string {
    for (;;) {
      const id = randomBytes(12).toString('hex');
      if (!this.usedIds.has(id)) return this.claimId(id);
    }
  }

  private claimId(id: string): string {
    const lower = id.toLowerCase();
    this.usedIds.add(lower);
    return lower;
  }

  /** The org, or EmulatorNotFoundError naming the instance or the org. Ids compare case-insensitively. */
  org(instanceId: string, orgId: string): StoredOrg {
    const orgs = this.instances.get(instanceId.toLowerCase());
    if (!orgs) throw new EmulatorNotFoundError('Instance', instanceId);
    const org = orgs.get(orgId.toLowerCase());
    if (!org) throw new EmulatorNotFoundError('Organization', orgId);
    return org;
  }

  private storedInvite(org: StoredOrg, inviteId: string): StoredInvite {
    const inv = org.invites.get(inviteId.toLowerCase());
    if (!inv) throw new EmulatorNotFoundError('Invite', inviteId);
    return inv;
  }

  private insertInvite(org: StoredOrg, input: NewInviteInput): StoredInvite {
    const inv: StoredInvite = {
      id: this.newId(),
      email: input.email,
      role: input.role,
      applicationRoles: input.applicationRoles ?? [],
      dashboardRoles: input.dashboardRoles ?? [],
      disallowTransfer: input.disallowTransfer ?? false,
      inviteDateMs: input.inviteDateMs ?? this.now(),
      expiredOverride: input.hasExpired,
      seq: this.seq++,
      json: {},
    };
    org.invites.set(inv.id, inv);
    this.index(org, inv);
    return inv;
  }

  /** Puts the invite into the org's sorted lists and email index. */
  private index(org: StoredOrg, inv: StoredInvite): void {
    for (const f of SORT_FIELDS) {
      const list = org.sorted[f];
      // new invites usually sort last (the newest inviteDate): skip the search then
      const last = list[list.length - 1];
      if (last === undefined || compareBy(f, last, inv) < 0) list.push(inv);
      else list.splice(lowerBound(list, f, inv), 0, inv);
    }
    const key = inv.email.toLowerCase();
    let same = org.byEmail.get(key);
    if (!same) org.byEmail.set(key, (same = new Set()));
    same.add(inv);
    org.version++;
    for (const [k, image] of org.images) if (!this.grow(org, k, image, inv)) this.dropImage(org, k);
  }

  private dropImage(org: StoredOrg, key: string): void {
    org.images.get(key)?.dispose();
    org.images.delete(key);
  }

  private dropImages(org: StoredOrg): void {
    for (const image of org.images.values()) image.dispose();
    org.images.clear();
  }

  /** What an image needs of one invite: its JSON pieces for the flavour and what its ttl is made of. */
  private imageItem(org: StoredOrg, inv: StoredInvite, links: boolean): ImageItem {
    const piece = this.itemJson(org, inv, links);
    return { head: piece.head, live: piece.live, expired: piece.expired, due: inv.inviteDateMs + INVITE_LIFETIME_MS, override: inv.expiredOverride };
  }

  /** Writes a just-indexed invite into the image when it sorts first or last there; false: the image must go. */
  private grow(org: StoredOrg, key: string, image: ItemsImage, inv: StoredInvite): boolean {
    const [flavour, field, direction] = key.split('|') as [string, InviteSortField, string];
    const list = org.sorted[field];
    const desc = direction !== 'asc';
    const atHead = desc ? list[list.length - 1] === inv : list[0] === inv;
    const atTail = desc ? list[0] === inv : list[list.length - 1] === inv;
    if (!atHead && !atTail) return false;
    return image.add(this.imageItem(org, inv, flavour === 'L'), atHead, this.now());
  }

  /** The image of an unfiltered list; undefined when a ttl cannot be held (the clock reads a fraction). */
  private buildImage(org: StoredOrg, field: InviteSortField, desc: boolean, links: boolean, nowMs: number): ItemsImage | undefined {
    const list = org.sorted[field];
    const n = list.length;
    const items: ImageItem[] = new Array<ImageItem>(n);
    for (let k = 0; k < n; k++) items[k] = this.imageItem(org, list[desc ? n - 1 - k : k] as StoredInvite, links);
    return ItemsImage.build(items, nowMs, this.copies);
  }

  /**
   * The invite collection answer: `prefix` + the JSON of the `items` array + `suffix(count)`, byte for
   * byte what the plain serializer writes for the state and clock reading of this call, however much
   * later its bytes are made (`chunks()`). An unfiltered list comes from the org's image (a lent copy of
   * its bytes with the ttl digits brought to the clock reading: no serialization and no copy of the
   * list, only a loop over its ttls); a filtered one from inviteItemsJson. Release the body once written.
   * @example const body = state.inviteItemsBody(I, O, q, true, '{"items":', (n) => `,"count":${n}}`); socket.end(Buffer.concat(body.chunks())); body.release();
   */
  inviteItemsBody(instanceId: string, orgId: string, q: ListQuery<InviteSortField>, links: boolean, prefix: string, suffix: (count: number) => string): AnswerBody {
    const org = this.org(instanceId, orgId);
    const slow = (): AnswerBody => {
      const { json, count } = this.inviteItemsJson(instanceId, orgId, q, links);
      const whole = [Buffer.from(`${prefix}${json}${suffix(count)}`, 'utf8')];
      return { length: (whole[0] as Buffer).length, chunks: () => whole, release: noop };
    };
    if (q.filterField !== undefined && q.filter !== undefined) return slow();
    const nowMs = this.now();
    const key = `${links ? 'L' : 'P'}|${q.sortField}|${q.sortDirection}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      let image = org.images.get(key);
      if (!image) {
        image = this.buildImage(org, q.sortField, q.sortDirection !== 'asc', links, nowMs);
        if (!image) return slow();
        org.images.set(key, image);
      }
      if (image.validAt(nowMs)) return image.snapshot(nowMs, Buffer.from(`${prefix}[`, 'utf8'), Buffer.from(`]${suffix(image.count)}`, 'utf8'));
      // an invite ran out or a ttl lost a digit since the image was made (or the clock went back): make it again, once
      this.dropImage(org, key);
    }
    return slow();
  }

  /** Takes the invite out of the sorted lists and email index (before a change of its sort keys, or its deletion). */
  private unindex(org: StoredOrg, inv: StoredInvite): void {
    for (const f of SORT_FIELDS) {
      const list = org.sorted[f];
      const at = lowerBound(list, f, inv);
      if (list[at] === inv) list.splice(at, 1);
    }
    const key = inv.email.toLowerCase();
    const same = org.byEmail.get(key);
    same?.delete(inv);
    if (same?.size === 0) org.byEmail.delete(key);
    inv.json = {};
    org.version++;
    this.dropImages(org);
  }

  /** True when the invite counts as expired now. */
  private expired(inv: StoredInvite, nowMs: number): boolean {
    return inv.expiredOverride ?? inv.inviteDateMs + INVITE_LIFETIME_MS - nowMs <= 0;
  }

  /** The invite's JSON pieces for one flavour (see ItemJson), made once per change of the invite. */
  private itemJson(org: StoredOrg, inv: StoredInvite, links: boolean): ItemJson {
    const cached = links ? inv.json.links : inv.json.plain;
    if (cached) return cached;
    const { id, email, role, applicationRoles, dashboardRoles } = inv;
    const fixed = JSON.stringify({ id, email, role, applicationRoles, dashboardRoles, inviteDate: new Date(inv.inviteDateMs).toISOString() });
    let rest = `,"disallowTransfer":${String(inv.disallowTransfer)}`;
    if (links) {
      const path = `/instances/${org.instanceId}/orgs/${org.id}`;
      rest += `,"_type":"orgInvite","_links":${JSON.stringify({ self: { href: `${path}/invites/${id}` }, org: { href: path } })}`;
    }
    const made: ItemJson = { head: `${fixed.slice(0, -1)},"ttl":`, live: `,"hasExpired":false${rest}}`, expired: `,"hasExpired":true${rest}}` };
    if (links) inv.json.links = made;
    else inv.json.plain = made;
    return made;
  }

  private view(inv: StoredInvite): EmulatorInvite {
    const remaining = Math.max(0, inv.inviteDateMs + INVITE_LIFETIME_MS - this.now());
    const hasExpired = inv.expiredOverride ?? remaining === 0;
    return {
      id: inv.id,
      email: inv.email,
      role: inv.role,
      applicationRoles: inv.applicationRoles.map((r) => ({ ...r })),
      dashboardRoles: inv.dashboardRoles.map((r) => ({ ...r })),
      inviteDate: new Date(inv.inviteDateMs).toISOString(),
      ttl: hasExpired ? 0 : remaining,
      hasExpired,
      disallowTransfer: inv.disallowTransfer,
    };
  }

  /** The org's invites a list query selects, in its order (from the sorted lists: no sorting per request). */
  private selected(org: StoredOrg, q: ListQuery<InviteSortField>): StoredInvite[] {
    const { filterField, filter } = q;
    const desc = q.sortDirection !== 'asc';
    if (filterField === undefined || filter === undefined) {
      const list = org.sorted[q.sortField];
      return desc ? list.slice().reverse() : list.slice();
    }
    // a filter without `*` is a whole, case-insensitive match: the email index has the candidates
    if (filterField === 'email' && !filter.includes('*')) {
      const few = [...(org.byEmail.get(filter.toLowerCase()) ?? [])].sort((a, b) => compareBy(q.sortField, a, b));
      return desc ? few.reverse() : few;
    }
    const out: StoredInvite[] = [];
    const list = org.sorted[q.sortField];
    for (let k = 0; k < list.length; k++) {
      const i = list[desc ? list.length - 1 - k : k] as StoredInvite;
      if (globMatch(filter, i[filterField])) out.push(i);
    }
    return out;
  }

  /** Pending invites of an org, filtered and sorted as GET answers them. */
  listInvites(instanceId: string, orgId: string, q: ListQuery<InviteSortField>): EmulatorInvite[] {
    return this.selected(this.org(instanceId, orgId), q).map((i) => this.view(i));
  }

  /**
   * The reference listInvites answers must equal: filter, sort and view every invite on each call.
   * Test-only (the property test compares the fast answers with it); the server never calls it.
   */
  listInvitesPlain(instanceId: string, orgId: string, q: ListQuery<InviteSortField>): EmulatorInvite[] {
    const org = this.org(instanceId, orgId);
    const key = SORT_KEY[q.sortField];
    const sign = q.sortDirection === 'asc' ? 1 : -1;
    const { filterField, filter } = q;
    return [...org.invites.values()]
      .filter((i) => filterField === undefined || filter === undefined || globMatch(filter, i[filterField]))
      .sort((a, b) => sign * (compareKeys(key(a), key(b)) || a.seq - b.seq))
      .map((i) => this.view(i));
  }

  /**
   * The JSON of the `items` array GET/POST invites answers for this query (`links`: each item with its
   * `_type` and `_links`), byte for byte what JSON.stringify of listInvites (through withLinks) writes,
   * and how many items it holds. Each item's JSON is made once per change of the invite; a request only
   * joins the pieces around the ttl. The same query at the same clock reading and state is answered
   * from a cache.
   * @example const { json, count } = state.inviteItemsJson(I, O, { sortField: 'inviteDate', sortDirection: 'desc' }, true);
   */
  inviteItemsJson(instanceId: string, orgId: string, q: ListQuery<InviteSortField>, links: boolean): { json: string; count: number } {
    const org = this.org(instanceId, orgId);
    const nowMs = this.now();
    const key = `${links ? 'L' : 'P'}|${q.sortField}|${q.sortDirection}|${q.filterField ?? ''}|${q.filter === undefined ? '-' : `+${q.filter}`}`;
    const hit = org.answers.get(key);
    if (hit && hit.version === org.version && hit.at === nowMs) return hit;
    const chosen = this.selected(org, q);
    const parts: string[] = new Array<string>(chosen.length);
    for (let k = 0; k < chosen.length; k++) {
      const inv = chosen[k] as StoredInvite;
      const piece = this.itemJson(org, inv, links);
      const remaining = Math.max(0, inv.inviteDateMs + INVITE_LIFETIME_MS - nowMs);
      const hasExpired = inv.expiredOverride ?? remaining === 0;
      parts[k] = hasExpired ? `${piece.head}0${piece.expired}` : piece.head + jsonNumber(remaining) + piece.live;
    }
    const made = { version: org.version, at: nowMs, json: `[${parts.join(',')}]`, count: chosen.length };
    // a handful of queries per org: keep the most recent few
    if (org.answers.size >= 16) org.answers.clear();
    org.answers.set(key, made);
    return made;
  }

  /** Members of an org, filtered and sorted as GET answers them. */
  listMembers(instanceId: string, orgId: string, q: ListQuery<'email' | 'role'>): EmulatorMember[] {
    const org = this.org(instanceId, orgId);
    const sign = q.sortDirection === 'asc' ? 1 : -1;
    const { filterField, filter } = q;
    const key = (m: { email: string; role: string }) => (q.sortField === 'email' ? m.email.toLowerCase() : m.role);
    return [...org.members.values()]
      .filter((m) => filterField === undefined || filter === undefined || globMatch(filter, m[filterField]))
      .sort((a, b) => sign * (compareKeys(key(a), key(b)) || compareKeys(a.email, b.email)))
      .map((m) => ({ instanceId: instanceId.toLowerCase(), orgId: org.id, userId: m.userId, email: m.email, role: m.role }));
  }

  /** True when the org already has an unexpired pending invite for this email (case-insensitive). */
  hasLiveInvite(instanceId: string, orgId: string, email: string): boolean {
    const nowMs = this.now();
    for (const i of this.org(instanceId, orgId).byEmail.get(email.toLowerCase()) ?? []) if (!this.expired(i, nowMs)) return true;
    return false;
  }

  /** Seats taken: members plus unexpired pending invites (expired ones do not count). */
  seatsTaken(instanceId: string, orgId: string): number {
    const org = this.org(instanceId, orgId);
    const nowMs = this.now();
    let live = 0;
    for (const i of org.invites.values()) if (!this.expired(i, nowMs)) live++;
    return org.members.size + live;
  }

  /** The org's `limits.member` (undefined: no limit). */
  memberLimit(instanceId: string, orgId: string): number | undefined {
    return this.org(instanceId, orgId).memberLimit;
  }

  /** Sets or (undefined) lifts the org's member limit. */
  setMemberLimit(instanceId: string, orgId: string, limit: number | undefined): void {
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new EmulatorStateError('setMemberLimit: limit must be an integer ≥ 0');
    this.org(instanceId, orgId).memberLimit = limit;
  }

  /**
   * The org as `GET /instances/{I}/orgs/{O}` answers it (the fields invite-sync reads, and a few more).
   * No limit: `limits` has no `member` key.
   */
  orgView(instanceId: string, orgId: string): EmulatorOrg {
    const org = this.org(instanceId, orgId);
    const pending = org.invites.size;
    return {
      id: org.id,
      orgId: org.id,
      instanceId: instanceId.toLowerCase(),
      name: org.name,
      limits: org.memberLimit === undefined ? {} : { member: org.memberLimit },
      summary: { memberCount: org.members.size, pendingInviteCount: pending },
    };
  }

  /** Creates an invite; the email is stored as given. */
  createInvite(instanceId: string, orgId: string, input: NewInviteInput): EmulatorInvite {
    return this.view(this.insertInvite(this.org(instanceId, orgId), input));
  }

  getInvite(instanceId: string, orgId: string, inviteId: string): EmulatorInvite {
    return this.view(this.storedInvite(this.org(instanceId, orgId), inviteId));
  }

  /** Resend: new role info (when given), inviteDate = now, not expired. */
  resendInvite(instanceId: string, orgId: string, inviteId: string, info: { role?: Role; applicationRoles?: ResourceRole[]; dashboardRoles?: ResourceRole[] }): EmulatorInvite {
    const org = this.org(instanceId, orgId);
    const inv = this.storedInvite(org, inviteId);
    this.unindex(org, inv);
    if (info.role !== undefined) inv.role = info.role;
    if (info.applicationRoles !== undefined) inv.applicationRoles = info.applicationRoles;
    if (info.dashboardRoles !== undefined) inv.dashboardRoles = info.dashboardRoles;
    inv.inviteDateMs = this.now();
    inv.expiredOverride = undefined;
    this.index(org, inv);
    return this.view(inv);
  }

  deleteInvite(instanceId: string, orgId: string, inviteId: string): void {
    const org = this.org(instanceId, orgId);
    const inv = this.storedInvite(org, inviteId);
    this.unindex(org, inv);
    org.invites.delete(inv.id);
  }

  /** Removes every pending invite of `email` and returns them, newest first; throws when there is none. */
  private takeInvites(org: StoredOrg, email: string): StoredInvite[] {
    const lower = email.toLowerCase();
    const taken = [...(org.byEmail.get(lower) ?? [])].sort((a, b) => b.inviteDateMs - a.inviteDateMs || b.seq - a.seq);
    if (taken.length === 0) throw new EmulatorStateError(`org ${org.id} has no pending invite for that email`);
    for (const i of taken) {
      this.unindex(org, i);
      org.invites.delete(i.id);
    }
    return taken;
  }

  /** The person accepts: their invites leave the list and they become a member with the newest invite's role. */
  acceptInvite(instanceId: string, orgId: string, email: string): void {
    const org = this.org(instanceId, orgId);
    const newest = this.takeInvites(org, email)[0] as StoredInvite;
    const existing = org.members.get(email.toLowerCase());
    org.members.set(email.toLowerCase(), { userId: existing?.userId ?? this.userIdFor(email), email: newest.email, role: newest.role });
  }

  /** An admin revokes the person's pending invites by hand. */
  revokeInviteByEmail(instanceId: string, orgId: string, email: string): void {
    this.takeInvites(this.org(instanceId, orgId), email);
  }

  removeMember(instanceId: string, orgId: string, email: string): void {
    const org = this.org(instanceId, orgId);
    if (!org.members.delete(email.toLowerCase())) throw new EmulatorStateError(`org ${org.id} has no member with that email`);
  }

  /** Everything but the tokens, for `GET /_emulator/state`. */
  snapshot(): { instances: { id: string; orgs: { id: string; invites: EmulatorInvite[]; members: EmulatorMember[] }[] }[] } {
    const defaults = { sortDirection: 'asc', filterField: undefined, filter: undefined } as const;
    return {
      instances: [...this.instances].map(([id, orgs]) => ({
        id,
        orgs: [...orgs.values()].map((o) => ({
          id: o.id,
          invites: this.listInvites(id, o.id, { ...defaults, sortField: 'inviteDate', sortDirection: 'desc' }),
          members: this.listMembers(id, o.id, { ...defaults, sortField: 'email' }),
        })),
      })),
    };
  }
}
