// tests --> the InputError or ScimError a call throws (fails the test when it throws nothing or something else)
import { InputError } from '../../functions/sync/errors.ts';
import { ScimError } from '../../functions/scim/errors.ts';

export function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

/** The ScimError a call throws (fails the test when it throws nothing or something else). */
export function scimError(fn: () => unknown): ScimError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw err;
  }
  throw new Error('expected a ScimError');
}
