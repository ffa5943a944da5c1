// emulator api() --> withLinks: the `_type` and `_links` Losant adds to every collection and item it answers
//
// Losant's own clients (losant-rest-js, every action) ask for `_links=true&_embedded=true`, and real
// answers carry `_type` and `_links` that the published schemas do not list. The exact `_type` strings
// and link names are not documented: the emulator uses the resource's schema name (`orgInvite`,
// `instanceOrgMember`, plural for the collection) and `self` / `org` links by path. A guess, so a
// client cannot depend on the values, only on meeting the fields.
import { ROUTE, type InviteSortField, type ListQuery } from './contract.ts';
import type { AnswerBody, EmulatorInvite, EmulatorState } from './state.ts';

type Route = (typeof ROUTE)[keyof typeof ROUTE];

interface Where {
  route: Route;
  instanceId: string;
  orgId: string;
}

const link = (href: string) => ({ href });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The answer body of a 2xx API answer as Losant sends it: the collection (GET/POST invites, GET members)
 * and each of its items, the single invite (GET/POST one invite), the single member (POST members,
 * GET/PATCH one member), the org (GET org) and GET /me get `_type` and `_links`. Other
 * bodies (`{"success":true}`) are returned as they are. Never changes `body` itself.
 * @example withLinks({ route: ROUTE.invites, instanceId, orgId }, { items: [invite] })
 */
export function withLinks(where: Where, body: unknown): unknown {
  if (!isRecord(body)) return body;
  const org = `/instances/${where.instanceId.toLowerCase()}/orgs/${where.orgId.toLowerCase()}`;
  const invite = (item: unknown) =>
    isRecord(item) ? { ...item, _type: 'orgInvite', _links: { self: link(`${org}/invites/${String(item.id)}`), org: link(org) } } : item;
  const member = (item: unknown) =>
    isRecord(item) ? { ...item, _type: 'instanceOrgMember', _links: { self: link(`${org}/members/${String(item.userId)}`), org: link(org) } } : item;
  const items = Array.isArray(body.items) ? body.items : undefined;
  switch (where.route) {
    case ROUTE.invites:
      return { ...body, ...(items ? { items: items.map(invite) } : {}), _type: 'orgInvites', _links: { self: link(`${org}/invites`), org: link(org) } };
    case ROUTE.members:
      // POST members answers the one new member
      if (items === undefined && 'userId' in body) return member(body);
      return { ...body, ...(items ? { items: items.map(member) } : {}), _type: 'instanceOrgMembers', _links: { self: link(`${org}/members`), org: link(org) } };
    case ROUTE.member:
      return 'success' in body ? body : member(body);
    case ROUTE.me:
      return { ...body, _type: 'me', _links: { self: link('/me') } };
    case ROUTE.org:
      return { ...body, _type: 'instanceOrg', _links: { self: link(org), invites: link(`${org}/invites`), members: link(`${org}/members`) } };
    default:
      return 'success' in body ? body : invite(body);
  }
}

const ITEMS_OPEN = '{"items":[]';

/** The collection envelope GET/POST invites answers around `items` (which comes first). */
function envelope(where: Where, items: unknown[], q: ListQuery<InviteSortField>): Record<string, unknown> {
  return { items, instanceId: where.instanceId.toLowerCase(), orgId: where.orgId.toLowerCase(), count: items.length, ...q };
}

/**
 * The invite collection answer (GET invites, POST invites) as pieces to write in order, byte for byte
 * `invitesBodyPlain`'s, without an object or a sort per invite: the state keeps the invites sorted and
 * the unfiltered lists as bytes (EmulatorState.inviteItemsBody); the envelope is serialized with an
 * empty `items` and the item list spliced in. Release the body once the socket has taken it.
 * @example const body = invitesBody(state, { route: ROUTE.invites, instanceId, orgId }, { sortField: 'inviteDate', sortDirection: 'desc' }, true); res.once('close', body.release);
 */
export function invitesBody(state: EmulatorState, where: Where, q: ListQuery<InviteSortField>, links: boolean): AnswerBody {
  return state.inviteItemsBody(where.instanceId, where.orgId, q, links, '{"items":', (count) => {
    const shell = envelope(where, [], q);
    shell.count = count;
    return JSON.stringify(links ? withLinks(where, shell) : shell).slice(ITEMS_OPEN.length);
  });
}

/**
 * The reference invitesBody must equal: every invite viewed, sorted and passed through withLinks, then
 * JSON.stringify. Test-only (the property test); the server answers with invitesBody.
 */
export function invitesBodyPlain(state: EmulatorState, where: Where, q: ListQuery<InviteSortField>, links: boolean): string {
  return collectionJsonPlain(where, state.listInvitesPlain(where.instanceId, where.orgId, q), q, links);
}

/**
 * The collection answer for these items, the plain way (envelope, withLinks, JSON.stringify). Test-only:
 * the HTTP test builds what the wire must carry from a running emulator's `invites()` with it.
 */
export function collectionJsonPlain(where: Where, items: readonly EmulatorInvite[], q: ListQuery<InviteSortField>, links: boolean): string {
  const body = envelope(where, [...items], q);
  return JSON.stringify(links ? withLinks(where, body) : body);
}
