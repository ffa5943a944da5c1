// PROVISIONAL (scim-wire): replaced by scim-core's errors.ts on merge; same contract.
export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';

export class ScimError extends Error {
  readonly status: number;
  readonly scimType?: string;
  constructor(status: number, detail: string, scimType?: string) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    if (scimType !== undefined) this.scimType = scimType;
  }
}

export function scimErrorBody(e: ScimError): { schemas: string[]; status: string; scimType?: string; detail: string } {
  return { schemas: [ERROR_URN], status: String(e.status), ...(e.scimType ? { scimType: e.scimType } : {}), detail: e.message };
}
