// config `people.startDateField` / `endDateField` / `timeZoneField` + `timeZone` --> personDates / dateIssues / applyDates (pure, no I/O)
import type { Person } from './types.ts';

/** Which person attributes hold the start date, end date and IANA zone (all opt-in), and the default zone. */
export interface DateSettings {
  startDateField?: string;
  endDateField?: string;
  timeZoneField?: string;
  /** the config's `timeZone` (default UTC) */
  timeZone: string;
}

/** A start more than this many days after ingest is refused (a typo'd year). */
export const MAX_START_AHEAD_DAYS = 400;
const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A person's attribute as one string (a list, which no date or zone can be, joined so the checks refuse it). */
function attr(person: Person, field: string | undefined): string | undefined {
  const v = field ? person.attributes[field] : undefined;
  return v === undefined ? undefined : Array.isArray(v) ? v.join(',') : v;
}

/** Is `zone` an IANA time zone this runtime knows (Intl)? */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at `ms` (local minus UTC, ms). */
function offsetAt(ms: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(ms);
  const n = (t: string): number => Number(parts.find((p) => p.type === t)!.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(ms / 1000) * 1000;
}

/** Epoch ms of local midnight (00:00) of `date` (YYYY-MM-DD) in `zone`; undefined for a date that does not exist. */
export function localMidnight(date: string, zone: string): number | undefined {
  const m = DATE.exec(date);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const wall = Date.UTC(y, mo - 1, d);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  let t = wall - offsetAt(wall, zone);
  t = wall - offsetAt(t, zone);
  return t;
}

/** The day after `date` (YYYY-MM-DD). */
const nextDay = (date: string): string => new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);

/** When a person starts (local midnight of the start date) and stops counting (local midnight after the end date), epoch ms. */
export function personDates(person: Person, s: DateSettings): { startsAt?: number; endsAt?: number } {
  const zone = attr(person, s.timeZoneField) || s.timeZone;
  if (!isTimeZone(zone)) return {};
  const start = attr(person, s.startDateField);
  const end = attr(person, s.endDateField);
  const startsAt = start ? localMidnight(start, zone) : undefined;
  const endsAt = end && DATE.test(end) ? localMidnight(nextDay(end), zone) : undefined;
  return { ...(startsAt !== undefined ? { startsAt } : {}), ...(endsAt !== undefined ? { endsAt } : {}) };
}

/**
 * What is wrong with a person's dates, naming the attribute: not YYYY-MM-DD (or no such day), an
 * unknown zone, a start more than 400 days after `now`, an end before the start. [] when fine, not opted in,
 * or for a terminated person.
 * @example dateIssues(person, { startDateField: 'startDate', timeZone: 'UTC' }, Date.now())
 */
export function dateIssues(person: Person, s: DateSettings, now: number): { path: string; message: string }[] {
  // a termination is never refused for its dates: it must land
  if (person.status === 'terminated') return [];
  const issues: { path: string; message: string }[] = [];
  const zoneValue = attr(person, s.timeZoneField);
  if (s.timeZoneField && zoneValue !== undefined && !isTimeZone(zoneValue)) issues.push({ path: s.timeZoneField, message: `unknown time zone "${zoneValue}" (an IANA name such as Europe/Berlin)` });
  const zone = zoneValue && isTimeZone(zoneValue) ? zoneValue : s.timeZone;
  const read = (field: string | undefined): number | undefined => {
    const value = attr(person, field);
    if (!field || value === undefined) return undefined;
    const at = localMidnight(value, zone);
    if (at === undefined) issues.push({ path: field, message: `must be a date YYYY-MM-DD (got "${value}")` });
    return at;
  };
  const start = read(s.startDateField);
  const end = read(s.endDateField);
  if (start !== undefined && start > now + MAX_START_AHEAD_DAYS * DAY_MS) issues.push({ path: s.startDateField!, message: `more than ${MAX_START_AHEAD_DAYS} days ahead` });
  if (start !== undefined && end !== undefined && end < start) issues.push({ path: s.endDateField!, message: `before ${s.startDateField}` });
  return issues;
}

/** Are any date fields configured? */
export const datesOn = (s: DateSettings | undefined): s is DateSettings => Boolean(s && (s.startDateField || s.endDateField));

/**
 * People as a run at `now` sees them: a person whose end has passed counts as left (`leftSource`);
 * a person before their start is left out and returned in `notStarted` (skip key `notStarted`).
 * @example const { people, notStarted } = applyDates(stored, settings, clock.now())
 */
export function applyDates<P extends Person & { leftSource?: boolean }>(people: readonly P[], s: DateSettings | undefined, now: number): { people: P[]; notStarted: { person: P; startsAt: number }[] } {
  if (!datesOn(s)) return { people: [...people], notStarted: [] };
  const out: P[] = [];
  const notStarted: { person: P; startsAt: number }[] = [];
  for (const p of people) {
    const { startsAt, endsAt } = personDates(p, s);
    if (p.status === 'active' && !p.leftSource && startsAt !== undefined && now < startsAt) notStarted.push({ person: p, startsAt });
    else if (endsAt !== undefined && now >= endsAt && !p.leftSource) out.push({ ...p, leftSource: true });
    else out.push(p);
  }
  return { people: out, notStarted };
}

/** The date settings of a config (undefined when no date field is set). */
export function dateSettings(config: { people?: { startDateField?: string; endDateField?: string; timeZoneField?: string }; timeZone?: string }): DateSettings | undefined {
  const s = { ...config.people, timeZone: config.timeZone ?? 'UTC' };
  return datesOn(s) ? s : undefined;
}

/**
 * The roster row check of a config's dates (parseRoster's `check`), or undefined when no date field is set:
 * a bad date, an unknown zone, a far start or an end before the start makes the row a bad row naming its
 * field and line, for a CLI roster and a file drop alike (`limits.maxBadRows` counts them).
 * @example parseRoster(text, 'csv', { maxBadRows, ...(rosterDateCheck(config, now) ? { check: rosterDateCheck(config, now) } : {}) })
 */
export function rosterDateCheck(config: Parameters<typeof dateSettings>[0], now: number): ((person: Person) => { path: string; message: string }[]) | undefined {
  const s = dateSettings(config);
  return s ? (person) => dateIssues(person, s, now) : undefined;
}

/**
 * The next `limit` people to start after `now` (active, not left, in their speaking record's dates), by startsAt.
 * @example upcomingStarts(await store.listPeople(), settings, Date.now(), 50) // [{ email, startsAt: '2027-01-04T15:00:00.000Z' }]
 */
export function upcomingStarts(people: readonly (Person & { leftSource?: boolean })[], s: DateSettings, now: number, limit: number): { email: string; startsAt: string }[] {
  const { notStarted } = applyDates(people, s, now);
  const first = new Map<string, number>();
  for (const n of notStarted) first.set(n.person.email, Math.min(first.get(n.person.email) ?? Infinity, n.startsAt));
  return [...first]
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([email, at]) => ({ email, startsAt: new Date(at).toISOString() }));
}
