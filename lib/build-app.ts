// lib/app.ts / infra tests --> buildApp --> InviteSync-<stage> stack + cdk-nag + tags
import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { listStageNames, loadStageConfig, STAGE_DIR, stageFromContext, type Stage, type StageConfig } from './stages.ts';
import { InviteSyncStack } from './invite-sync-stack.ts';

export interface BuildAppOptions {
  /** @default - the stage named by the `stage` context value */
  readonly stage?: Stage;
  /** @default - config/<stage>.stage.json with the app's `-c stage.<key>=<value>` overrides */
  readonly config?: StageConfig;
  /** where the stage files are. @default STAGE_DIR (config/) */
  readonly stageDir?: string;
}

/** `InviteSync-<stage>`: `InviteSync-dev`, `InviteSync-staging`, `InviteSync-prod`, … */
export const stackIdFor = (stage: Stage): string => `InviteSync-${stage}`;

/**
 * Adds the selected stage's stack to the app (its settings from `config/<stage>.stage.json`), with the AWS Solutions cdk-nag checks (v3: a policy
 * validation plugin run at synth) and the project/stage tags. The account is pinned only when the
 * stage config names one; otherwise the stack is account-agnostic (CDK_DEFAULT_ACCOUNT is not read,
 * so a synth gives the same template on every machine).
 * @example const stack = buildApp(new App({ context: { stage: 'prod' } }));
 */
export function buildApp(app: App, options: BuildAppOptions = {}): InviteSyncStack {
  const stageDir = options.stageDir ?? STAGE_DIR;
  const stage = options.stage ?? stageFromContext(app, listStageNames(stageDir));
  const config = options.config ?? loadStageConfig(stage, { scope: app, dir: stageDir });
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
