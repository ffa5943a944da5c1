// infra tests --> synthStage --> buildApp (the app entry's own wiring) --> Template
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildApp, type BuildAppOptions } from '../../lib/build-app.ts';
import type { InviteSyncStack } from '../../lib/invite-sync-stack.ts';
import type { Stage } from '../../lib/stages.ts';

export interface Synthesized {
  app: App;
  stack: InviteSyncStack;
  template: Template;
  assembly: CloudAssembly;
}

/** Synthesizes one stage the way `cdk synth -c stage=<stage>` does (local esbuild bundling, cdk-nag on). */
export function synthStage(stage: Stage, options: Omit<BuildAppOptions, 'stage'> = {}): Synthesized {
  const app = new App({ context: { stage } });
  const stack = buildApp(app, options);
  const template = Template.fromStack(stack);
  const assembly = app.synth();
  return { app, stack, template, assembly };
}

export type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

/** The only resource of a type, with its logical id; fails when there is not exactly one. */
export function onlyResource(template: Template, type: string): [string, Resource] {
  const found = Object.entries(template.findResources(type)) as [string, Resource][];
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

/**
 * A stage's entry of a per-stage table (synths, expectations, configs); fails naming the stage when
 * it has none, e.g. a new stage file without expectations.
 */
export function pick<T>(table: Readonly<Record<string, T>>, stage: string): T {
  const entry = table[stage];
  if (entry === undefined) throw new Error(`no entry for stage ${stage}: add it to the test's per-stage table`);
  return entry;
}

/** One of the stack's two functions (`syncFunction`: reconcile; `httpFunction`: webhook) with its logical id. */
export function functionResource(s: Synthesized, which: 'syncFunction' | 'httpFunction'): [string, Resource] {
  const id = s.stack.getLogicalId(s.stack[which].cfnFunction);
  const resource = s.template.findResources('AWS::Lambda::Function')[id] as Resource | undefined;
  if (!resource) throw new Error(`no function ${id}`);
  return [id, resource];
}
