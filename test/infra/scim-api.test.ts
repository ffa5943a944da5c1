// infra test: the SCIM route of the HTTP API (ANY /scim/v2/{proxy+} to the HTTP function, throttled by the stage's
// scimThrottle), the SCIM token secret read by the HTTP function alone, and the outputs an IdP admin needs.
import { beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { STAGES, STAGE_NAMES, type Stage } from '../../lib/stages.ts';
import { functionResource, pick, synthStage, type Synthesized } from './synth.ts';

const synths: Record<Stage, Synthesized> = {};
beforeAll(() => {
  for (const stage of STAGE_NAMES) synths[stage] = synthStage(stage);
});

describe('SCIM on the HTTP API', () => {
  it.each(STAGE_NAMES)('%s: routes ANY /scim/v2/{proxy+} to the webhook integration with the scimThrottle route setting', (stage) => {
    const { template } = pick(synths, stage);
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as { RouteKey: string; Target: unknown });
    const scim = routes.find((r) => r.RouteKey === 'ANY /scim/v2/{proxy+}');
    const webhook = routes.find((r) => r.RouteKey === 'POST /webhook');
    expect(scim).toBeDefined();
    expect(scim?.Target).toEqual(webhook?.Target);
    const throttle = STAGES[stage]!.scimThrottle;
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      RouteSettings: { 'ANY /scim/v2/{proxy+}': { ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit } },
    });
    template.hasOutput('ScimBaseUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/scim/v2$')])] } });
    template.hasOutput('ScimTokenSecretArn', { Value: { Ref: Match.stringLikeRegexp('^ScimTokens') } });
  });

  it.each(STAGE_NAMES)('%s: the HTTP function gets SCIM_TOKEN_SECRET_ARN, the reconcile function does not', (stage) => {
    const s = pick(synths, stage);
    const [, http] = functionResource(s, 'httpFunction');
    const [, sync] = functionResource(s, 'syncFunction');
    const env = (fn: typeof http) => (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env(http).SCIM_TOKEN_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^ScimTokens/) });
    expect(env(sync).SCIM_TOKEN_SECRET_ARN).toBeUndefined();
  });
});
