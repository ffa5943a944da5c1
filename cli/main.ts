// invite-sync CLI: commander --> command module --> the same use cases the Lambda handlers call.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError, EXIT, type ExitCode } from './exit-codes.ts';
import { InputError } from '../functions/sync/errors.ts';
import { register as registerEmulator } from './commands/emulator.ts';
import { register as registerSync } from './commands/sync.ts';
import { register as registerDemo } from './commands/demo.ts';
import { register as registerServe } from './commands/serve.ts';
import { register as registerRuns } from './commands/runs.ts';
import { register as registerUnlock } from './commands/unlock.ts';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('invite-sync')
  .description('Keeps Losant organization invites in step with an HR roster.')
  .version(version, '-V, --version', 'print the version')
  .showHelpAfterError(`see 'invite-sync --help'`)
  // a usage error is one line (commander puts its "Did you mean" on a second one), then the `see … --help` line
  .configureOutput({ outputError: (str, write) => write(str.replace(/\n\(Did you mean (.+)\?\)/, ' (did you mean $1?)')) })
  .exitOverride();

registerEmulator(program);
registerSync(program);
registerDemo(program);
registerServe(program);
registerRuns(program);
registerUnlock(program);

/** `--json` anywhere on the command line: errors are one JSON object on stdout too. */
const json = process.argv.slice(2).includes('--json');

/** Prints an error: the stderr text, and with --json `{ "error": { code, message, … } }` on stdout; sets the exit code. */
function fail(exit: ExitCode, code: string, message: string, opts: { text?: string; details?: Record<string, unknown> } = {}): void {
  // the JSON message is the first line (a usage error's second line is the `see … --help` pointer)
  if (json) process.stdout.write(JSON.stringify({ error: { code, message: message.split('\n')[0], ...opts.details } }) + '\n');
  if (opts.text !== '') process.stderr.write(opts.text ?? `invite-sync: ${message}\n`);
  process.exitCode = exit;
}

/** An InputError with every issue it lists (roster rows by line and field). */
function inputErrorText(err: InputError): string {
  const lines = [`invite-sync: ${err.message}`];
  for (const i of err.issues.slice(0, 200)) lines.push(`  ${i.line !== undefined ? `line ${i.line}: ` : ''}${i.path}: ${i.message}`);
  if (err.issues.length > 200) lines.push(`  … and ${err.issues.length - 200} more`);
  return lines.join('\n') + '\n';
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander printed the one-line error and the `see … --help` line already (help and --version exit 0)
    if (err.exitCode === 0) process.exitCode = 0;
    else fail(EXIT.badInput, 'usage', err.message.replace(/^error: /, ''), { text: '' });
  } else if (err instanceof CliError) {
    fail(err.exitCode, err.code, err.message, { details: err.details });
  } else if (err instanceof InputError) {
    fail(EXIT.badInput, 'badInput', err.message, { text: inputErrorText(err), details: err.issues.length ? { issues: err.issues.slice(0, 200) } : {} });
  } else {
    fail(EXIT.couldNotRun, 'internal', (err as Error)?.message ?? String(err));
  }
}
