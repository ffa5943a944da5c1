// PATCH body (RFC 7644 §3.5.2) --> applyPatch(stored resource) --> a new resource, validated by the same
// schema as POST/PUT (so a PATCH cannot store what a POST could not). Pure; never mutates its input.
import { elementMatches, keyOf, parseAttrPath, parsePath, type ScimFilter, type ScimPath } from './filter.ts';
import { PATCH_OP_SCHEMA, ScimError } from './errors.ts';
import { isReservedName } from '../sync/people.ts';
import {
  coreAttributes,
  coreSchemaOf,
  extensionsOf,
  findAttr,
  findExtension,
  parseResource,
  type AttrDef,
  type ResourceKind,
  type ScimGroup,
  type ScimUser,
} from './resources.ts';

type Json = Record<string, unknown>;
type Op = 'add' | 'replace' | 'remove';

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Most operations one PATCH may carry. */
export const MAX_OPERATIONS = 1000;

/** Keys of a value the client sent, mapped to the definition's names ignoring case (unknown keys kept: the schema drops them). */
function canonical(def: AttrDef, value: unknown): unknown {
  if (def.type !== 'complex') return value;
  const one = (v: unknown): unknown => {
    if (!isObject(v)) return v;
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) {
      // `__proto__` and friends would reach the object's prototype when assigned
      if (!isReservedName(k)) out[findAttr(def.subAttributes ?? [], k)?.name ?? k] = x;
    }
    return out;
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

/** The element's own value of `name` ignoring case. */
function field(o: Json, name: string): unknown {
  const k = keyOf(o, name);
  return k === undefined ? undefined : o[k];
}

/** Two values equal as JSON (key order ignored). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameJson(a[k], b[k]));
  }
  return false;
}

/** Same element of a multi-valued attribute: members by `value`; others when equal as JSON. */
function sameElement(def: AttrDef, a: unknown, b: unknown): boolean {
  if (def.name === 'members' && isObject(a) && isObject(b)) return field(a, 'value') === field(b, 'value');
  return sameJson(a, b);
}

/** `type eq "work" and primary eq true` → { type: 'work', primary: true }: what a new element needs to match; undefined when the filter says more. */
function eqTerms(f: ScimFilter, def: AttrDef): Json | undefined {
  if (f.op === 'and') {
    const l = eqTerms(f.left, def);
    const r = eqTerms(f.right, def);
    return l === undefined || r === undefined ? undefined : { ...l, ...r };
  }
  if (f.op === 'eq' && f.value !== null && f.path.sub === undefined && f.path.uri === undefined) {
    const sub = findAttr(def.subAttributes ?? [], f.path.attr);
    return sub === undefined ? undefined : { [sub.name]: f.value };
  }
  return undefined;
}

class Patcher {
  constructor(
    private readonly doc: Json,
    private readonly kind: ResourceKind,
    private readonly id: string,
  ) {}

  /** One operation with no `path`: each member of the value is applied at its own path (RFC 7644 §3.5.2.1/.3). */
  noPath(op: Op, value: unknown, where: string): void {
    if (op === 'remove') throw new ScimError(400, 'noTarget', `${where}: remove needs a path`);
    if (!isObject(value)) throw new ScimError(400, 'invalidSyntax', `${where}.value: must be an object when there is no path`);
    for (const [key, v] of Object.entries(value)) {
      const lower = key.toLowerCase();
      if (lower === 'schemas') continue;
      if (lower === 'id') {
        if (v === this.id) continue;
        throw new ScimError(400, 'mutability', `${where}.value.id: is read-only`);
      }
      const urn = findExtension(this.kind, key);
      if (urn !== undefined) {
        this.extensionObject(op, urn, v, `${where}.value`);
        continue;
      }
      const core = coreSchemaOf(this.kind).toLowerCase();
      if (lower === core) {
        if (!isObject(v)) throw new ScimError(400, 'invalidValue', `${where}.value.${key}: must be an object`);
        this.noPath(op, v, where);
        continue;
      }
      // a key that is no attribute path, or names an extension we do not keep, is ignored as POST ignores it
      let parsed: ScimPath;
      try {
        parsed = parsePath(key);
      } catch {
        continue;
      }
      this.at(op, parsed, v, `${where}.value.${key}`, true);
    }
  }

  /** `path` naming an extension schema itself, or a no-path value holding one: its members are applied one by one. */
  extensionObject(op: Op, urn: string, value: unknown, where: string): void {
    if (op === 'remove') {
      delete this.doc[urn];
      return;
    }
    if (!isObject(value)) throw new ScimError(400, 'invalidValue', `${where}: ${urn} must be an object`);
    for (const [k, v] of Object.entries(value)) {
      const p = parseAttrPath(k);
      this.at(op, { path: { ...p, uri: urn } }, v, `${where}.${urn}.${k}`, true);
    }
  }

  /** The attribute's container and definition; `create` makes a missing extension object. */
  resolve(sp: ScimPath, where: string, create: boolean, lenient: boolean): { c: Json; def: AttrDef } | undefined {
    const { uri, attr } = sp.path;
    let c: Json | undefined = this.doc;
    let defs = coreAttributes(this.kind);
    if (uri !== undefined && uri.toLowerCase() !== coreSchemaOf(this.kind).toLowerCase()) {
      const urn = findExtension(this.kind, uri);
      if (urn === undefined) {
        if (lenient) return undefined; // no-path value naming an extension we do not keep
        throw new ScimError(400, 'invalidPath', `${where}: unknown schema "${uri}"`);
      }
      defs = extensionsOf(this.kind)[urn] ?? [];
      const ext = this.doc[urn];
      if (isObject(ext)) c = ext;
      else if (create) c = this.doc[urn] = {};
      else c = undefined;
    }
    const def = findAttr(defs, attr);
    if (def === undefined) {
      if (lenient) return undefined; // as POST ignores unknown attributes
      throw new ScimError(400, 'invalidPath', `${where}: unknown attribute "${attr}"`);
    }
    if (def.name === 'id' || def.name === 'meta' || def.mutability === 'readOnly') throw new ScimError(400, 'mutability', `${where}: ${def.name} is read-only`);
    return c === undefined ? undefined : { c, def };
  }

  at(op: Op, sp: ScimPath, value: unknown, where: string, lenient = false): void {
    if (op !== 'remove' && value === undefined) throw new ScimError(400, 'invalidSyntax', `${where}: value is required`);
    const found = this.resolve(sp, where, op !== 'remove', lenient);
    if (found === undefined) return; // remove inside a missing extension: nothing to do
    const { c, def } = found;
    if (sp.filter !== undefined) return this.valuePath(op, c, def, sp.filter, sp.sub, value, where);
    if (sp.path.sub !== undefined) return this.subAttr(op, c, def, sp.path.sub, value, where);
    return this.whole(op, c, def, value);
  }

  /** `emails[type eq "work"]`, `emails[type eq "work"].value`, `members[value eq "x"]`. */
  valuePath(op: Op, c: Json, def: AttrDef, filter: ScimFilter, sub: string | undefined, value: unknown, where: string): void {
    if (!def.multiValued || def.type !== 'complex') throw new ScimError(400, 'invalidPath', `${where}: ${def.name} is not multi-valued`);
    const subDef = sub === undefined ? undefined : findAttr(def.subAttributes ?? [], sub);
    if (sub !== undefined && subDef === undefined) throw new ScimError(400, 'invalidPath', `${where}: unknown sub-attribute "${sub}" of ${def.name}`);
    const list: unknown[] = Array.isArray(c[def.name]) ? [...(c[def.name] as unknown[])] : [];
    const parent = { attr: def.name };
    const hit = list.map((e) => isObject(e) && elementMatches(e, filter, parent));
    if (op === 'remove') {
      const kept: unknown[] = [];
      list.forEach((e, i) => {
        if (!hit[i]) kept.push(e);
        else if (subDef !== undefined && isObject(e)) {
          const rest = { ...e };
          const k = keyOf(rest, subDef.name);
          if (k !== undefined) delete rest[k];
          if (Object.keys(rest).length > 0) kept.push(rest);
        }
      });
      this.setList(c, def.name, kept);
      return;
    }
    const v = canonical(def, value);
    if (subDef === undefined && !isObject(v)) throw new ScimError(400, 'invalidValue', `${where}: value must be an object`);
    if (hit.some(Boolean)) {
      c[def.name] = list.map((e, i) => {
        if (!hit[i] || !isObject(e)) return e;
        if (subDef !== undefined) return { ...withoutKey(e, subDef.name), [subDef.name]: v };
        return op === 'add' ? { ...e, ...(v as Json) } : v;
      });
      return;
    }
    // nothing matched: a filter of plain `eq` terms describes the element to create (Entra adds
    // `emails[type eq "work"].value` to users without a work address)
    const terms = eqTerms(filter, def);
    if (terms === undefined) throw new ScimError(400, 'noTarget', `${where}: the filter matches no value`);
    const created = subDef !== undefined ? { ...terms, [subDef.name]: v } : { ...terms, ...(v as Json) };
    c[def.name] = [...list, created];
  }

  /** `name.givenName`, `urn:…:User:manager.value`, `emails.value` (every element). */
  subAttr(op: Op, c: Json, def: AttrDef, sub: string, value: unknown, where: string): void {
    const subDef = def.type === 'complex' ? findAttr(def.subAttributes ?? [], sub) : undefined;
    if (subDef === undefined) throw new ScimError(400, 'invalidPath', `${where}: unknown sub-attribute "${sub}" of ${def.name}`);
    const cur = c[def.name];
    if (def.multiValued) {
      const list = Array.isArray(cur) ? cur : [];
      if (op === 'remove') {
        this.setList(c, def.name, list.map((e) => (isObject(e) ? withoutKey(e, subDef.name) : e)).filter((e) => !isObject(e) || Object.keys(e).length > 0));
      } else c[def.name] = list.length === 0 ? [{ [subDef.name]: value }] : list.map((e) => (isObject(e) ? { ...withoutKey(e, subDef.name), [subDef.name]: value } : e));
      return;
    }
    const obj = isObject(cur) ? withoutKey(cur, subDef.name) : {};
    if (op !== 'remove') obj[subDef.name] = value;
    if (Object.keys(obj).length === 0) delete c[def.name];
    else c[def.name] = obj;
  }

  /** The attribute itself: `title`, `emails`, `members`, `name`, `urn:…:User:manager`. */
  whole(op: Op, c: Json, def: AttrDef, value: unknown): void {
    const cur = c[def.name];
    if (op === 'remove') {
      // Entra (older behaviour) removes members as {path: "members", value: [{value: "id"}]}
      if (def.multiValued && value !== undefined && value !== null) {
        const gone = (Array.isArray(value) ? value : [value]).map((x) => canonical(def, x));
        const list = Array.isArray(cur) ? cur : [];
        this.setList(c, def.name, list.filter((e) => !gone.some((g) => sameElement(def, e, g))));
      } else delete c[def.name];
      return;
    }
    let v = canonical(def, value);
    // Entra sends the manager as its id string
    if (def.type === 'complex' && !def.multiValued && typeof v === 'string') v = { value: v };
    if (def.multiValued) {
      const items = v === null ? [] : Array.isArray(v) ? v : [v];
      if (op === 'replace') {
        this.setList(c, def.name, items);
        return;
      }
      const list = Array.isArray(cur) ? [...(cur as unknown[])] : [];
      for (const item of items) if (!list.some((e) => sameElement(def, e, item))) list.push(item);
      this.setList(c, def.name, list);
      return;
    }
    // a complex attribute: the given sub-attributes replace theirs, the others stay (RFC 7644 §3.5.2.1, §3.5.2.3)
    if (def.type === 'complex' && isObject(v)) {
      const merged: Json = isObject(cur) ? { ...cur } : {};
      for (const [k, x] of Object.entries(v)) {
        if (isReservedName(k)) continue;
        const old = keyOf(merged, k);
        if (old !== undefined) delete merged[old];
        merged[k] = x;
      }
      c[def.name] = merged;
      return;
    }
    if (v === null) delete c[def.name];
    else c[def.name] = v;
  }

  setList(c: Json, name: string, list: unknown[]): void {
    if (list.length === 0) delete c[name];
    else c[name] = list;
  }
}

function withoutKey(o: Json, name: string): Json {
  const out = { ...o };
  const k = keyOf(out, name);
  if (k !== undefined) delete out[k];
  return out;
}

/**
 * Applies a SCIM PATCH body to a stored user or group and returns the new resource (`id` and `meta`
 * as they were: the store updates `meta`). `op` is case-insensitive; paths may be attributes,
 * sub-attributes, extension URNs or value filters; a value filter of `eq` terms that matches nothing
 * adds the element it describes. Errors: 400 `invalidSyntax` (no PatchOp schema, no Operations, bad
 * op), `invalidPath`, `noTarget`, `mutability` (id, meta, read-only), `invalidValue` (the result
 * fails the resource schema, naming the field).
 * @example applyPatch(user, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] }, 'User')
 */
export function applyPatch<R extends ScimUser | ScimGroup>(resource: R, body: unknown, kind: ResourceKind): R {
  if (!isObject(body)) throw new ScimError(400, 'invalidSyntax', 'the body must be a JSON object');
  const schemas = field(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_OP_SCHEMA.toLowerCase())) {
    throw new ScimError(400, 'invalidSyntax', `schemas: must include ${PATCH_OP_SCHEMA}`);
  }
  const ops = field(body, 'Operations');
  if (!Array.isArray(ops) || ops.length === 0) throw new ScimError(400, 'invalidSyntax', 'Operations: must be a non-empty list');
  if (ops.length > MAX_OPERATIONS) throw new ScimError(400, 'invalidSyntax', `Operations: more than ${MAX_OPERATIONS}`);

  const { id, meta, ...attrs } = structuredClone(resource) as R & Json;
  const doc = attrs as Json;
  const patcher = new Patcher(doc, kind, id);
  ops.forEach((raw, i) => {
    const where = `Operations.${i}`;
    if (!isObject(raw)) throw new ScimError(400, 'invalidSyntax', `${where}: must be an object`);
    const opName = field(raw, 'op');
    const op = typeof opName === 'string' ? opName.toLowerCase() : undefined;
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw new ScimError(400, 'invalidSyntax', `${where}.op: must be add, replace or remove`);
    const path = field(raw, 'path');
    const value = field(raw, 'value');
    if (path !== undefined && path !== null && typeof path !== 'string') throw new ScimError(400, 'invalidPath', `${where}.path: must be a string`);
    if (path === undefined || path === null || path.trim() === '') return patcher.noPath(op, value, where);
    const urn = findExtension(kind, path.trim());
    if (urn !== undefined) return patcher.extensionObject(op, urn, value, `${where}.path`);
    patcher.at(op, parsePath(path), value, `${where}.path`);
  });

  const parsed = parseResource(kind, doc);
  return { ...parsed, id, meta } as unknown as R;
}
