// invite-sync CLI: commander --> command module --> the same use cases the Lambda handlers call.
import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './exit-codes.ts';
import { InputError } from '../functions/sync/errors.ts';
import { register as registerEmulator } from './commands/emulator.ts';
import { register as registerSync } from './commands/sync.ts';
import { register as registerDemo } from './commands/demo.ts';
import { register as registerServe } from './commands/serve.ts';

const program = new Command()
  .name('invite-sync')
  .description('Keeps Losant organization invites in step with an HR roster.')
  .showHelpAfterError()
  .exitOverride();

registerEmulator(program);
registerSync(program);
registerDemo(program);
registerServe(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT.badInput;
  } else if (err instanceof CliError) {
    process.stderr.write(`invite-sync: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else if (err instanceof InputError) {
    process.stderr.write(`invite-sync: ${err.message}\n`);
    process.exitCode = EXIT.badInput;
  } else {
    process.stderr.write(`invite-sync: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = EXIT.couldNotRun;
  }
}
