// SCIM request body --> parseUser / parseGroup (tolerant: names case-insensitive, unknown attributes
// and extensions ignored, "False" read as false) --> ScimUserInput / ScimGroupInput; stored
// ScimUser / ScimGroup --> toScimUser / toScimGroup (adds `schemas` and `meta.location`). Pure.
import { z } from 'zod';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, LIST_RESPONSE_SCHEMA, ScimError, USER_SCHEMA } from './errors.ts';

export type ResourceKind = 'User' | 'Group';

// ---------- attribute definitions (RFC 7643 §4, §7): one table for parsing, paths, filters, /Schemas ----------

export interface AttrDef {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued: boolean;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  description: string;
  subAttributes?: AttrDef[];
  referenceTypes?: string[];
  canonicalValues?: string[];
}

type AttrOpts = Partial<Omit<AttrDef, 'name' | 'type'>>;
const base = (name: string, type: AttrDef['type'], o: AttrOpts): AttrDef => ({
  name,
  type,
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  description: name,
  ...o,
});
const str = (name: string, o: AttrOpts = {}) => base(name, 'string', o);
const bool = (name: string, o: AttrOpts = {}) => base(name, 'boolean', o);
const ref = (name: string, referenceTypes: string[], o: AttrOpts = {}) => base(name, 'reference', { caseExact: true, referenceTypes, ...o });
const complex = (name: string, subAttributes: AttrDef[], o: AttrOpts = {}) => base(name, 'complex', { subAttributes, ...o });
const multi = (name: string, subAttributes: AttrDef[], o: AttrOpts = {}) => complex(name, subAttributes, { multiValued: true, ...o });

const typedValueSubs = (types: string[]): AttrDef[] => [
  str('value'),
  str('display'),
  str('type', { canonicalValues: types }),
  bool('primary'),
];

/** `id`, `externalId` and `meta` (RFC 7643 §3.1), common to every resource. */
export const COMMON_ATTRIBUTES: AttrDef[] = [
  str('id', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server', description: 'server-assigned, stable, case-sensitive identifier' }),
  str('externalId', { caseExact: true, description: 'identifier the provisioning client assigned' }),
  complex(
    'meta',
    [
      str('resourceType', { caseExact: true, mutability: 'readOnly' }),
      base('created', 'dateTime', { mutability: 'readOnly' }),
      base('lastModified', 'dateTime', { mutability: 'readOnly' }),
      ref('location', ['uri'], { mutability: 'readOnly' }),
      str('version', { caseExact: true, mutability: 'readOnly' }),
    ],
    { mutability: 'readOnly' },
  ),
];

export const USER_ATTRIBUTES: AttrDef[] = [
  str('userName', { required: true, uniqueness: 'server', description: 'unique identifier for the user (case-insensitive)' }),
  complex('name', [
    str('formatted'),
    str('familyName'),
    str('givenName'),
    str('middleName'),
    str('honorificPrefix'),
    str('honorificSuffix'),
  ]),
  str('displayName'),
  str('nickName'),
  ref('profileUrl', ['external']),
  str('title'),
  str('userType'),
  str('preferredLanguage'),
  str('locale'),
  str('timezone'),
  bool('active', { description: 'false: the user is deactivated (soft delete); invite-sync treats them as terminated' }),
  multi('emails', typedValueSubs(['work', 'home', 'other'])),
  multi('phoneNumbers', typedValueSubs(['work', 'home', 'mobile', 'fax', 'pager', 'other'])),
  multi('addresses', [
    str('formatted'),
    str('streetAddress'),
    str('locality'),
    str('region'),
    str('postalCode'),
    str('country'),
    str('type', { canonicalValues: ['work', 'home', 'other'] }),
    bool('primary'),
  ]),
  multi(
    'groups',
    [
      str('value', { mutability: 'readOnly', caseExact: true }),
      ref('$ref', ['Group'], { mutability: 'readOnly' }),
      str('display', { mutability: 'readOnly' }),
      str('type', { mutability: 'readOnly', canonicalValues: ['direct'] }),
    ],
    { mutability: 'readOnly', description: 'groups the user belongs to (managed through /Groups)' },
  ),
  multi('roles', typedValueSubs([])),
  multi('entitlements', typedValueSubs([])),
];

export const ENTERPRISE_USER_ATTRIBUTES: AttrDef[] = [
  str('employeeNumber', { description: 'becomes the person\'s employeeId (matches the same employee in other sources)' }),
  str('costCenter'),
  str('organization'),
  str('division'),
  str('department'),
  complex('manager', [str('value', { caseExact: true }), ref('$ref', ['User']), str('displayName', { mutability: 'readOnly' })]),
];

export const GROUP_ATTRIBUTES: AttrDef[] = [
  str('displayName', { required: true, description: 'the group\'s name; rules see it in the `groups` attribute of its members' }),
  multi('members', [
    str('value', { required: true, caseExact: true, mutability: 'immutable' }),
    ref('$ref', ['User', 'Group'], { mutability: 'immutable' }),
    str('display', { mutability: 'readOnly' }),
    str('type', { mutability: 'immutable', canonicalValues: ['User', 'Group'] }),
  ]),
];

/** Attributes of a resource kind: its core schema's plus the common ones. */
export function coreAttributes(kind: ResourceKind): AttrDef[] {
  return [...COMMON_ATTRIBUTES, ...(kind === 'User' ? USER_ATTRIBUTES : GROUP_ATTRIBUTES)];
}

/** Extension schemas a kind understands (URN → attributes). */
export function extensionsOf(kind: ResourceKind): Record<string, AttrDef[]> {
  return kind === 'User' ? { [ENTERPRISE_USER_SCHEMA]: ENTERPRISE_USER_ATTRIBUTES } : {};
}

export const coreSchemaOf = (kind: ResourceKind): string => (kind === 'User' ? USER_SCHEMA : GROUP_SCHEMA);

/** The definition named `name` (case-insensitive) among `defs`. */
export function findAttr(defs: readonly AttrDef[], name: string): AttrDef | undefined {
  const lower = name.toLowerCase();
  return defs.find((d) => d.name.toLowerCase() === lower);
}

/** The extension URN equal to `urn` ignoring case, if the kind knows it. */
export function findExtension(kind: ResourceKind, urn: string): string | undefined {
  const lower = urn.toLowerCase();
  return Object.keys(extensionsOf(kind)).find((u) => u.toLowerCase() === lower);
}

// ---------- stored and input types ----------

export interface ScimMultiValue {
  value?: string;
  display?: string;
  type?: string;
  primary?: boolean;
}
export interface ScimAddress {
  formatted?: string;
  streetAddress?: string;
  locality?: string;
  region?: string;
  postalCode?: string;
  country?: string;
  type?: string;
  primary?: boolean;
}
export interface ScimName {
  formatted?: string;
  familyName?: string;
  givenName?: string;
  middleName?: string;
  honorificPrefix?: string;
  honorificSuffix?: string;
}
export interface EnterpriseUser {
  employeeNumber?: string;
  costCenter?: string;
  organization?: string;
  division?: string;
  department?: string;
  manager?: { value?: string; $ref?: string; displayName?: string };
}
export interface ScimMember {
  value: string;
  $ref?: string;
  display?: string;
  type?: string;
}
export interface ScimGroupRef {
  value: string;
  $ref?: string;
  display?: string;
  type?: string;
}

/** A user as a client writes it (server-assigned `id`, `meta` and read-only `groups` left out). */
export interface ScimUserInput {
  userName: string;
  externalId?: string;
  name?: ScimName;
  displayName?: string;
  nickName?: string;
  profileUrl?: string;
  title?: string;
  userType?: string;
  preferredLanguage?: string;
  locale?: string;
  timezone?: string;
  active?: boolean;
  emails?: ScimMultiValue[];
  phoneNumbers?: ScimMultiValue[];
  addresses?: ScimAddress[];
  roles?: ScimMultiValue[];
  entitlements?: ScimMultiValue[];
  [ENTERPRISE_USER_SCHEMA]?: EnterpriseUser;
}

export interface ScimGroupInput {
  displayName: string;
  externalId?: string;
  members?: ScimMember[];
}

/** What the store keeps besides the attributes (`location` is added when rendering). */
export interface ScimMeta {
  resourceType: ResourceKind;
  /** ISO date-time */
  created: string;
  /** ISO date-time */
  lastModified: string;
  /** the ETag, e.g. `W/"3"` */
  version: string;
}

export interface ScimUser extends ScimUserInput {
  id: string;
  meta: ScimMeta;
}
export interface ScimGroup extends ScimGroupInput {
  id: string;
  meta: ScimMeta;
}

export type RenderedMeta = ScimMeta & { location: string };
export type RenderedUser = Omit<ScimUser, 'meta'> & { schemas: string[]; groups?: ScimGroupRef[]; meta: RenderedMeta };
export type RenderedGroup = Omit<ScimGroup, 'meta'> & { schemas: string[]; meta: RenderedMeta };

// ---------- zod schemas built from the definitions ----------

/** Longest string any attribute may hold. */
export const MAX_STRING = 1024;

const stringSchema = z
  .union([z.string(), z.number()], { error: (iss) => (iss.input === undefined ? 'required' : 'must be a string') })
  .transform((v) => String(v))
  .pipe(z.string().max(MAX_STRING, `longer than ${MAX_STRING} characters`));

// Entra sends booleans as "True" / "False"
const booleanSchema = z
  .union([z.boolean(), z.string()], { error: 'must be true or false' })
  .transform((v, ctx) => {
    if (typeof v === 'boolean') return v;
    const s = v.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
    ctx.addIssue({ code: 'custom', message: 'must be true or false', input: v });
    return z.NEVER;
  });

/** Keys matched to `defs` ignoring case, unknown keys and nulls dropped (RFC 7643 §2.5: null is unassigned). */
function canonicalKeys(defs: readonly AttrDef[], extensions: Record<string, AttrDef[]>, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null) continue;
    const def = findAttr(defs, k);
    if (def !== undefined) {
      out[def.name] = v;
      continue;
    }
    const urn = Object.keys(extensions).find((u) => u.toLowerCase() === k.toLowerCase());
    if (urn !== undefined) out[urn] = v;
  }
  return out;
}

function attrSchema(def: AttrDef): z.ZodType {
  let one: z.ZodType;
  if (def.type === 'boolean') one = booleanSchema;
  else if (def.type === 'complex') one = complexSchema(def.subAttributes ?? [], {});
  else one = stringSchema;
  if (!def.multiValued) {
    if (def.required) return def.type === 'string' ? stringSchema.pipe(z.string().trim().min(1, 'required')) : one;
    return one.optional();
  }
  // a single value where a list belongs is read as a list of one
  return z.preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(one, { error: 'must be a list' })).optional();
}

function complexSchema(defs: readonly AttrDef[], extensions: Record<string, AttrDef[]>): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const def of defs) shape[def.name] = attrSchema(def);
  for (const [urn, extDefs] of Object.entries(extensions)) shape[urn] = complexSchema(extDefs, {}).optional();
  return z.preprocess((v) => canonicalKeys(defs, extensions, v), z.object(shape, { error: 'must be an object' }));
}

/** Attributes a client may write: read-only ones (`id`, `meta`, a user's `groups`) are the server's. */
const writable = (defs: readonly AttrDef[]) => defs.filter((d) => d.mutability !== 'readOnly');

export const ScimUserInputSchema = complexSchema(writable(coreAttributes('User')), extensionsOf('User')) as z.ZodType<ScimUserInput>;
export const ScimGroupInputSchema = complexSchema(writable(coreAttributes('Group')), {}) as z.ZodType<ScimGroupInput>;

/** Drops empty objects (an extension whose attributes were all null is unassigned). */
function dropEmpty<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

function parseOrThrow<T extends object>(schema: z.ZodType<T>, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ScimError(400, 'invalidSyntax', 'the body must be a JSON object');
  const result = schema.safeParse(body);
  if (result.success) return dropEmpty(result.data);
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  throw new ScimError(400, 'invalidValue', `${path}: ${issue?.message ?? 'invalid'}`);
}

/**
 * A user body as the client sent it, validated. Throws ScimError 400 `invalidValue` naming the field.
 * @example parseUser({ userName: 'jane@example.com', active: 'False' }) // { userName: 'jane@example.com', active: false }
 */
export function parseUser(body: unknown): ScimUserInput {
  return parseOrThrow(ScimUserInputSchema, body);
}

/** A group body as the client sent it, validated (members need a `value`). */
export function parseGroup(body: unknown): ScimGroupInput {
  return parseOrThrow(ScimGroupInputSchema, body);
}

/** parseUser or parseGroup by kind. */
export function parseResource(kind: ResourceKind, body: unknown): ScimUserInput | ScimGroupInput {
  return kind === 'User' ? parseUser(body) : parseGroup(body);
}

/**
 * A new stored resource from validated input: `id` and the times come from the caller (the store).
 * @example stamp(parseUser(body), 'User', { id, now: clock().toISOString(), version: 'W/"1"' })
 */
export function stamp<I extends ScimUserInput | ScimGroupInput>(
  input: I,
  kind: ResourceKind,
  at: { id: string; now: string; version: string },
): I & { id: string; meta: ScimMeta } {
  return { ...input, id: at.id, meta: { resourceType: kind, created: at.now, lastModified: at.now, version: at.version } };
}

/**
 * PUT (RFC 7644 §3.5.1): the body replaces every writable attribute; `id` and `meta` stay (the store
 * updates `meta.lastModified` and `meta.version`). A body `id` other than the resource's → 400 `mutability`.
 */
export function replaceResource<R extends ScimUser | ScimGroup>(existing: R, body: unknown, kind: ResourceKind): R {
  const bodyId = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).id : undefined;
  if (bodyId !== undefined && bodyId !== null && bodyId !== existing.id) throw new ScimError(400, 'mutability', 'id: is read-only and differs from the resource\'s');
  const input = parseResource(kind, body);
  return { ...input, id: existing.id, meta: existing.meta } as R;
}

// ---------- rendering ----------

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * A stored user as SCIM returns it: `schemas` (core, plus the enterprise URN when it has enterprise
 * attributes), the groups it belongs to (`groups`, computed by the store) and `meta.location`.
 * @example toScimUser(user, 'https://x.example/scim/v2', [{ value: 'g1', display: 'Losant-Admins' }])
 */
export function toScimUser(stored: ScimUser, baseUrl: string, groups?: readonly ScimGroupRef[]): RenderedUser {
  const root = trimSlash(baseUrl);
  const { id, meta, ...rest } = stored;
  const schemas = [USER_SCHEMA];
  if (rest[ENTERPRISE_USER_SCHEMA] !== undefined) schemas.push(ENTERPRISE_USER_SCHEMA);
  const out: RenderedUser = { schemas, id, ...structuredClone(rest), meta: { ...meta, location: `${root}/Users/${id}` } };
  if (groups !== undefined && groups.length > 0) {
    out.groups = groups.map((g) => ({ value: g.value, $ref: g.$ref ?? `${root}/Groups/${g.value}`, ...(g.display !== undefined ? { display: g.display } : {}), type: g.type ?? 'direct' }));
  }
  // keep meta last, as the RFC's examples do
  const { meta: m, ...body } = out;
  return { ...body, meta: m };
}

/** A stored group as SCIM returns it (members get a `$ref` to their user). */
export function toScimGroup(stored: ScimGroup, baseUrl: string): RenderedGroup {
  const root = trimSlash(baseUrl);
  const { id, meta, members, ...rest } = stored;
  const out: RenderedGroup = { schemas: [GROUP_SCHEMA], id, ...structuredClone(rest), meta: { ...meta, location: `${root}/Groups/${id}` } };
  if (members !== undefined) {
    const { meta: m, ...body } = out;
    return {
      ...body,
      members: members.map((mb) => ({ ...mb, $ref: mb.$ref ?? `${root}/${mb.type === 'Group' ? 'Groups' : 'Users'}/${mb.value}` })),
      meta: m,
    };
  }
  return out;
}

/**
 * A ListResponse (RFC 7644 §3.4.2): `totalResults` of the whole query, this page's 1-based
 * `startIndex`, and `itemsPerPage` = the resources returned.
 * @example listResponse(page.map((u) => toScimUser(u, base)), { totalResults: 1000, startIndex: 1 })
 */
export function listResponse<T>(resources: readonly T[], page: { totalResults: number; startIndex: number }) {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: page.totalResults, startIndex: page.startIndex, itemsPerPage: resources.length, Resources: [...resources] };
}
