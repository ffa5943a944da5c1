// scim-wire --> fail: the one place the wire code builds a ScimError (status, scimType, detail)
import { ScimError, type ScimType } from './errors.ts';

/** A ScimError with this status, SCIM `scimType` (or none) and detail. */
export function scimFail(status: number, scimType: ScimType | undefined, detail: string): ScimError {
  return new ScimError(status, scimType, detail);
}
