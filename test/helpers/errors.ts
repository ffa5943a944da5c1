// tests --> the InputError a call throws (fails the test when it throws nothing or something else)
import { InputError } from '../../functions/sync/errors.ts';

export function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}
