// lib/app.ts / infra tests --> buildApp --> InviteSync-<stage> stack + cdk-nag + tags
import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STAGES, stageFromContext, type Stage, type StageConfig } from './stages.ts';
import { InviteSyncStack } from './invite-sync-stack.ts';

export interface BuildAppOptions {
  /** @default - the stage named by the `stage` context value */
  readonly stage?: Stage;
  /** @default STAGES[stage] */
  readonly config?: StageConfig;
}

/** `InviteSync-dev`, `InviteSync-staging`, `InviteSync-prod` */
export const stackIdFor = (stage: Stage): string => `InviteSync-${stage}`;

/**
 * Adds the selected stage's stack to the app, with the AWS Solutions cdk-nag checks (v3: a policy
 * validation plugin run at synth) and the project/stage tags. The account is pinned only when the
 * stage config names one; otherwise the stack is account-agnostic (CDK_DEFAULT_ACCOUNT is not read,
 * so a synth gives the same template on every machine).
 * @example const stack = buildApp(new App({ context: { stage: 'prod' } }));
 */
export function buildApp(app: App, options: BuildAppOptions = {}): InviteSyncStack {
  const stage = options.stage ?? stageFromContext(app);
  const config = options.config ?? STAGES[stage];
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new InviteSyncStack(app, stackIdFor(stage), {
    stage,
    config,
    env: config.account ? { account: config.account, region: config.region } : { region: config.region },
    description: `invite-sync (${stage}): keeps Losant organization invites in step with the HR roster`,
    terminationProtection: config.removalPolicy === 'retain',
  });
  Tags.of(stack).add('project', 'invite-sync');
  Tags.of(stack).add('stage', stage);
  return stack;
}
