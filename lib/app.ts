// cdk synth|deploy -c stage=<name> --> lib/app.ts --> buildApp --> InviteSync-<stage>
import { App } from 'aws-cdk-lib';
import { InputError } from '../functions/sync/errors.ts';
import { UnknownStageError } from './stages.ts';
import { buildApp } from './build-app.ts';

const app = new App();
try {
  buildApp(app);
  app.synth();
} catch (err) {
  // a bad stage name, stage file, -c stage.<key> value or sync config file: one line, like the CLI, not a stack trace
  if (!(err instanceof InputError || err instanceof UnknownStageError)) throw err;
  process.stderr.write(`invite-sync: ${err.message}\n`);
  process.exitCode = 1;
}
