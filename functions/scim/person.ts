// PROVISIONAL (scim-wire): scim-core's person.ts replaces this on merge (same contract).
// SCIM user --> scimUserToPerson --> the domain Person (identity `scim:<id>` is the store's key).
import { parseEmail } from '../sync/email.ts';
import type { Person } from '../sync/types.ts';
import { ENTERPRISE_USER_SCHEMA, ScimError } from './errors.ts';
import type { ScimUser } from './resources.ts';

export const SCIM_IDENTITY_PREFIX = 'scim:';

function emailOf(user: ScimUser): string {
  const emails = (user.emails ?? []).filter((e) => typeof e.value === 'string' && e.value.trim() !== '');
  const pick = emails.find((e) => e.primary) ?? emails.find((e) => e.type?.toLowerCase() === 'work') ?? emails[0];
  const candidates = pick?.value !== undefined ? [pick.value] : [user.userName];
  for (const c of candidates) {
    const parsed = parseEmail(c);
    if (parsed.ok) return parsed.email;
  }
  throw new ScimError(400, 'invalidValue', 'emails: no usable email (and userName is not an email)');
}

/** The person a SCIM user is: email, employeeId (enterprise employeeNumber), status, rule attributes. */
export function scimUserToPerson(user: ScimUser, groupNames: readonly string[]): Person {
  const ent = user[ENTERPRISE_USER_SCHEMA] ?? {};
  const attributes: Record<string, string> = {};
  const put = (k: string, v: unknown) => {
    if (typeof v === 'string' && v.trim() !== '') attributes[k] = v.trim().slice(0, 1024);
  };
  put('userName', user.userName);
  put('title', user.title);
  put('userType', user.userType);
  put('locale', user.locale);
  put('department', ent.department);
  put('division', ent.division);
  put('organization', ent.organization);
  put('costCenter', ent.costCenter);
  put('manager', ent.manager?.value);
  if (groupNames.length) put('groups', groupNames.join(','));
  const person: Person = { email: emailOf(user), status: user.active === false ? 'terminated' : 'active', attributes };
  if (typeof ent.employeeNumber === 'string' && ent.employeeNumber.trim() !== '') person.employeeId = ent.employeeNumber.trim();
  return person;
}
