// SCIM protocol errors (RFC 7644 §3.12) and the URNs every SCIM message names. Pure: no I/O.

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** The `scimType` values of RFC 7644 §3.12 table 9. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/**
 * A SCIM request that cannot be served: HTTP `status`, optional `scimType`, and the message as the
 * error's `detail` (never a secret; name the field, not the person).
 * @example throw new ScimError(400, 'invalidFilter', 'unsupported operator "xx"')
 */
export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;
  constructor(status: number, scimType: ScimType | undefined, detail: string) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
  }
}

export const isScimError = (e: unknown): e is ScimError => e instanceof ScimError;

/** The body of a SCIM error response (RFC 7644 §3.12: `status` is a string). */
export interface ScimErrorBody {
  schemas: [typeof ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}

/**
 * The JSON body for a ScimError.
 * @example scimErrorBody(new ScimError(404, undefined, 'resource not found')) // { schemas: [ERROR_SCHEMA], status: '404', detail: 'resource not found' }
 */
export function scimErrorBody(e: ScimError): ScimErrorBody {
  const body: ScimErrorBody = { schemas: [ERROR_SCHEMA], status: String(e.status), detail: e.message };
  if (e.scimType !== undefined) body.scimType = e.scimType;
  return body;
}
