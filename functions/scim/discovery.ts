// GET /ServiceProviderConfig, /ResourceTypes, /Schemas (RFC 7644 §4, RFC 7643 §5-7): what this server
// supports, told from the same attribute table the parsers use. Pure.
import {
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  RESOURCE_TYPE_SCHEMA,
  SCHEMA_SCHEMA,
  SERVICE_PROVIDER_CONFIG_SCHEMA,
  USER_SCHEMA,
} from './errors.ts';
import { MAX_PAGE } from './filter.ts';
import { ENTERPRISE_USER_ATTRIBUTES, GROUP_ATTRIBUTES, USER_ATTRIBUTES, type AttrDef } from './resources.ts';

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * The ServiceProviderConfig resource: PATCH yes, bulk no, filter yes (MAX_PAGE results a page),
 * changePassword no, sort no, ETags yes, bearer tokens.
 */
export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Authentication with a bearer token (Authorization: Bearer <token>) that invite-sync issued for one source',
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${trimSlash(baseUrl)}/ServiceProviderConfig` },
  };
}

/** The User and Group ResourceType resources (User with the optional enterprise extension). */
export function resourceTypes(baseUrl: string) {
  const root = trimSlash(baseUrl);
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${root}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: GROUP_SCHEMA,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${root}/ResourceTypes/Group` },
    },
  ];
}

/** RFC 7643 §7 attribute JSON (the table's fields, read-only sub-attributes included). */
function attributeJson(def: AttrDef): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: def.name,
    type: def.type,
    multiValued: def.multiValued,
    description: def.description,
    required: def.required,
    caseExact: def.caseExact,
    mutability: def.mutability,
    returned: def.returned,
    uniqueness: def.uniqueness,
  };
  if (def.canonicalValues !== undefined && def.canonicalValues.length > 0) out.canonicalValues = [...def.canonicalValues];
  if (def.referenceTypes !== undefined) out.referenceTypes = [...def.referenceTypes];
  if (def.subAttributes !== undefined) out.subAttributes = def.subAttributes.map(attributeJson);
  return out;
}

/**
 * The Schema resources for the core User, the enterprise User extension and the core Group: the
 * attributes this server keeps (others are accepted and ignored). `baseUrl` adds `meta.location`.
 */
export function schemaDocuments(baseUrl?: string) {
  const doc = (id: string, name: string, description: string, attrs: AttrDef[]) => ({
    schemas: [SCHEMA_SCHEMA],
    id,
    name,
    description,
    attributes: attrs.map(attributeJson),
    meta: { resourceType: 'Schema', ...(baseUrl !== undefined ? { location: `${trimSlash(baseUrl)}/Schemas/${id}` } : {}) },
  });
  return [
    doc(USER_SCHEMA, 'User', 'User Account', USER_ATTRIBUTES),
    doc(ENTERPRISE_USER_SCHEMA, 'EnterpriseUser', 'Enterprise User', ENTERPRISE_USER_ATTRIBUTES),
    doc(GROUP_SCHEMA, 'Group', 'Group', GROUP_ATTRIBUTES),
  ];
}
