// stored ScimUser + the names of its groups --> scimUserToPerson --> the domain Person (validated by the
// same schema as roster rows and HR events: functions/sync/people.ts). Pure.
import { ScimError } from './errors.ts';
import { ENTERPRISE_USER_SCHEMA } from './errors.ts';
import type { ScimUser } from './resources.ts';
import { parseEmail } from '../sync/email.ts';
import { InputError } from '../sync/errors.ts';
import { toPerson } from '../sync/people.ts';
import type { Person } from '../sync/types.ts';

/** A SCIM user's stored identity is `scim:<id>`: stable even when the IdP adds an employeeNumber later. */
export const SCIM_IDENTITY_PREFIX = 'scim:';

/** @example scimIdentity('2819c223') // 'scim:2819c223' */
export const scimIdentity = (id: string): string => `${SCIM_IDENTITY_PREFIX}${id}`;

/** The attributes rules see, in the order README lists them (each absent when the user has none). */
export const SCIM_PERSON_ATTRIBUTES = [
  'userName',
  'title',
  'userType',
  'locale',
  'department',
  'division',
  'organization',
  'costCenter',
  'manager',
  'groups',
] as const;

/**
 * The address invite-sync invites: the primary `emails` value, else the `work` one, else the first,
 * else `userName` when it is an address. Throws ScimError 400 `invalidValue` naming `emails`.
 */
export function scimUserEmail(user: Pick<ScimUser, 'emails' | 'userName'>): string {
  const emails = (user.emails ?? []).filter((e) => typeof e.value === 'string' && e.value.trim() !== '');
  const chosen = emails.find((e) => e.primary === true) ?? emails.find((e) => e.type?.toLowerCase() === 'work') ?? emails[0];
  if (chosen?.value !== undefined) {
    const parsed = parseEmail(chosen.value);
    if (parsed.ok) return parsed.email;
    throw new ScimError(400, 'invalidValue', `emails: ${parsed.reason}`);
  }
  const fromUserName = parseEmail(user.userName);
  if (fromUserName.ok) return fromUserName.email;
  throw new ScimError(400, 'invalidValue', 'emails: required (no emails value, and userName is not an email address)');
}

/**
 * The domain Person a SCIM user is: email (scimUserEmail), `employeeNumber` → `employeeId`,
 * `active: false` → terminated, and the attributes `userName`, `title`, `userType`, `locale`,
 * enterprise `department`, `division`, `organization`, `costCenter`, `manager` (its value) and
 * `groups` (the display names, sorted, as a list). Throws ScimError 400 `invalidValue` naming the field.
 * @example scimUserToPerson(user, ['Losant-Admins']).attributes.groups // ['Losant-Admins']
 */
export function scimUserToPerson(user: ScimUser, groupNames: readonly string[]): Person {
  const ent = user[ENTERPRISE_USER_SCHEMA] ?? {};
  const raw: Record<string, unknown> = {
    email: scimUserEmail(user),
    status: user.active === false ? 'terminated' : 'active',
    userName: user.userName,
    title: user.title,
    userType: user.userType,
    locale: user.locale,
    department: ent.department,
    division: ent.division,
    organization: ent.organization,
    costCenter: ent.costCenter,
    manager: ent.manager?.value,
    groups: [...new Set(groupNames)].sort(),
  };
  const employeeId = ent.employeeNumber?.trim();
  if (employeeId !== undefined && employeeId !== '') raw.employeeId = employeeId;
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  try {
    return toPerson(raw);
  } catch (e) {
    if (e instanceof InputError) throw new ScimError(400, 'invalidValue', e.message.replace(/^employeeId:/, 'employeeNumber:'));
    throw e;
  }
}
