// SCIM service --> ScimStore port <-- functions/state/scim-store.ts (DynamoDB). Resources are scoped by source
// (the token's source): two IdPs never see, or collide with, each other's users and groups.
import type { Person } from '../sync/types.ts';

export type ScimKind = 'User' | 'Group';

/** The attributes the store indexes: unique per source and kind, compared lower-cased. */
export type UniqueAttr = 'userName' | 'externalId' | 'displayName';

/** A resource as stored: its document (attributes as the IdP sent them, minus `schemas`) and its server-kept meta. */
export interface StoredResource {
  id: string;
  kind: ScimKind;
  /** attributes as stored (no `id`, no `meta`) */
  doc: Record<string, unknown>;
  /** starts at 1, +1 per write; the ETag is `W/"<version>"` */
  version: number;
  /** ISO times */
  created: string;
  lastModified: string;
}

/** `meta.version` of a stored resource. */
export const etagOf = (version: number): string => `W/"${version}"`;

export interface WriteOptions {
  /** the request's If-Match: the write happens only when it names the stored version (else 412) */
  ifMatch?: string | undefined;
}

export interface ReadOptions {
  /** false: a group comes without its members (their names are all the caller needs); default true */
  members?: boolean;
}

export interface ListQuery {
  /** 1-based */
  startIndex: number;
  /** capped at MAX_PAGE by the store */
  count: number;
  /** top-level AND-ed eq terms: answered from one lookup instead of the whole list */
  indexed?: readonly { attr: string; value: string }[];
  /** the whole filter (checked on every candidate) */
  matches?: (r: StoredResource) => boolean;
  /** false: groups come without their members (the answer excludes them and the filter does not name them); default true */
  members?: boolean;
}

export interface ListPage {
  totalResults: number;
  resources: StoredResource[];
}

/** SCIM users and groups of each source, with uniqueness, versions and group membership. */
export interface ScimStore {
  /** new id; 409 `uniqueness` when userName / externalId (users) or displayName (groups) is taken */
  create(source: string, kind: ScimKind, doc: Record<string, unknown>): Promise<StoredResource>;
  get(source: string, kind: ScimKind, id: string, opts?: ReadOptions): Promise<StoredResource | null>;
  /** 404 when absent, 412 when If-Match names another version, 409 `uniqueness` */
  replace(source: string, kind: ScimKind, id: string, doc: Record<string, unknown>, opts?: WriteOptions): Promise<StoredResource>;
  /** read, change, write (retried when another write came between); 404, 412, 409 as `replace` */
  update(source: string, kind: ScimKind, id: string, change: (current: StoredResource) => Record<string, unknown>, opts?: WriteOptions): Promise<{ before: StoredResource; after: StoredResource }>;
  /** removes the resource and frees its unique values; returns what was deleted (404 when absent) */
  delete(source: string, kind: ScimKind, id: string, opts?: WriteOptions): Promise<StoredResource>;
  list(source: string, kind: ScimKind, query: ListQuery): Promise<ListPage>;
  /** the ids of the groups a user is a member of */
  groupsOf(source: string, userId: string): Promise<string[]>;
  /** records membership changes of a group (after the group's own write) */
  setMemberships(source: string, groupId: string, added: readonly string[], removed: readonly string[]): Promise<void>;
  /** the person of a SCIM user, stored under identity `scim:<id>` (unconditional: the resource's version orders writes) */
  putPerson(source: string, identity: string, person: Person, lastEventAt: string): Promise<void>;
  /** whether a person is stored under identity `scim:<id>` (a create whose person write failed left none) */
  hasPerson(source: string, identity: string): Promise<boolean>;
  /** the id of the resource holding a unique value (userName, externalId, displayName; compared lower-cased) */
  holderOf(source: string, kind: ScimKind, attr: string, value: string): Promise<string | undefined>;
}
