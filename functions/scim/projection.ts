// rendered resource + `attributes=` / `excludedAttributes=` (RFC 7644 §3.4.2.5, §3.9) --> project --> what the
// response shows. `id`, `schemas` and `meta` are always returned. Pure.
import { ScimError } from './errors.ts';
import { keyOf, parseAttrPath, type AttrPath } from './filter.ts';
import { GROUP_SCHEMA, USER_SCHEMA } from './errors.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Returned whatever `attributes` / `excludedAttributes` say (RFC 7643 `returned: always`). */
export const ALWAYS_RETURNED = ['id', 'schemas', 'meta'] as const;

export interface Projection {
  /** comma-separated (as in the query string) or already split */
  attributes?: string | readonly string[] | undefined;
  excludedAttributes?: string | readonly string[] | undefined;
}

const CORE_URNS = [USER_SCHEMA.toLowerCase(), GROUP_SCHEMA.toLowerCase()];

/** One entry of the list: a whole extension (`urn:…:User`), or `[uri:]attr[.sub]` in the core or an extension. */
interface Spec {
  ext?: string;
  attr?: string;
  sub?: string;
}

function specs(resource: Json, raw: string | readonly string[] | undefined, param: string): Spec[] {
  if (raw === undefined) return [];
  const items = (typeof raw === 'string' ? raw.split(',') : raw.flatMap((r) => r.split(','))).map((s) => s.trim()).filter((s) => s.length > 0);
  return items.map((item) => {
    // the extension itself, e.g. urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
    const whole = /^urn:/i.test(item) ? keyOf(resource, item) : undefined;
    if (whole !== undefined) return { ext: whole };
    let p: AttrPath;
    try {
      p = parseAttrPath(item);
    } catch {
      throw new ScimError(400, 'invalidValue', `${param}: "${item}" is not an attribute path`);
    }
    const spec: Spec = { attr: p.attr };
    if (p.sub !== undefined) spec.sub = p.sub;
    if (p.uri !== undefined && !CORE_URNS.includes(p.uri.toLowerCase())) spec.ext = keyOf(resource, p.uri) ?? p.uri;
    return spec;
  });
}

const isAlways = (s: Spec) => s.ext === undefined && s.attr !== undefined && (ALWAYS_RETURNED as readonly string[]).includes(s.attr.toLowerCase());

/** `value` with only sub-attribute `sub` kept (each element of a list). */
function pickSub(value: unknown, sub: string): unknown {
  const one = (v: unknown): Json | undefined => {
    if (!isObject(v)) return undefined;
    const k = keyOf(v, sub);
    return k === undefined ? undefined : { [k]: v[k] };
  };
  if (Array.isArray(value)) {
    const kept = value.map(one).filter((v): v is Json => v !== undefined);
    return kept.length > 0 ? kept : undefined;
  }
  return one(value);
}

/** Merges a picked sub-attribute into what is already selected (`name.givenName,name.familyName`). */
function mergePicked(prev: unknown, next: unknown): unknown {
  if (prev === undefined) return next;
  if (Array.isArray(prev) && Array.isArray(next)) return prev.map((p, i) => ({ ...(p as Json), ...(next[i] as Json) }));
  if (isObject(prev) && isObject(next)) return { ...prev, ...next };
  return next;
}

function include(resource: Json, list: Spec[]): Json {
  const out: Json = {};
  for (const k of Object.keys(resource)) if ((ALWAYS_RETURNED as readonly string[]).includes(k)) out[k] = resource[k];
  for (const s of list) {
    if (s.attr === undefined) {
      if (s.ext !== undefined && resource[s.ext] !== undefined) out[s.ext] = resource[s.ext];
      continue;
    }
    const from = s.ext === undefined ? resource : resource[s.ext];
    if (!isObject(from)) continue;
    const key = keyOf(from, s.attr);
    if (key === undefined) continue;
    const picked = s.sub === undefined ? from[key] : pickSub(from[key], s.sub);
    if (picked === undefined) continue;
    const to = s.ext === undefined ? out : ((out[s.ext] as Json | undefined) ?? (out[s.ext] = {}));
    to[key] = s.sub === undefined ? picked : mergePicked(to[key], picked);
  }
  // keep the resource's key order (meta last)
  return Object.fromEntries(Object.keys(resource).filter((k) => k in out).map((k) => [k, out[k]]));
}

function exclude(resource: Json, list: Spec[]): Json {
  const out = structuredClone(resource);
  for (const s of list) {
    if (isAlways(s)) continue;
    if (s.attr === undefined) {
      if (s.ext !== undefined) delete out[s.ext];
      continue;
    }
    const from = s.ext === undefined ? out : out[s.ext];
    if (!isObject(from)) continue;
    const key = keyOf(from, s.attr);
    if (key === undefined) continue;
    if (s.sub === undefined) {
      delete from[key];
      continue;
    }
    const sub = s.sub;
    const strip = (v: unknown) => {
      if (!isObject(v)) return;
      const k = keyOf(v, sub);
      if (k !== undefined) delete v[k];
    };
    const value = from[key];
    if (Array.isArray(value)) value.forEach(strip);
    else strip(value);
  }
  return out;
}

/**
 * The attributes of a rendered resource a request asked for: with `attributes`, only those (plus
 * `id`, `schemas`, `meta`); with `excludedAttributes`, all but those. Names are case-insensitive;
 * sub-attributes (`name.givenName`, `emails.value`) and extension paths
 * (`urn:…:enterprise:2.0:User:department`) work; unknown names select nothing.
 * @example project(toScimGroup(group, base), { excludedAttributes: 'members' })
 */
export function project<T extends object>(rendered: T, opts: Projection): Partial<T> {
  const resource = rendered as unknown as Json;
  const inc = specs(resource, opts.attributes, 'attributes');
  const exc = specs(resource, opts.excludedAttributes, 'excludedAttributes');
  let out = inc.length > 0 ? include(resource, inc) : structuredClone(resource);
  if (exc.length > 0) out = exclude(out, exc);
  return out as Partial<T>;
}
