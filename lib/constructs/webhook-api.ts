// HR system --signed POST /webhook--> WebhookApi (HTTP API, $default stage) --> the function (payload v2)
// IdP --Bearer ANY /scim/v2/{proxy+}--> the same function (route throttled by the stage's scimThrottle)
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** HTTP API context variables only; no headers or body, so no signature and no personal data. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
};

/** The SCIM route (its path is the function's SCIM_BASE_PATH). */
export const SCIM_ROUTE_BASE = '/scim/v2';
export const SCIM_ROUTE_KEY = `ANY ${SCIM_ROUTE_BASE}/{proxy+}`;

export interface WebhookApiProps {
  readonly handler: lambda.IFunction;
  readonly throttle: { rateLimit: number; burstLimit: number };
  /** throttling of the SCIM route alone (stage route settings) */
  readonly scimThrottle: { rateLimit: number; burstLimit: number };
  readonly logRetention: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * An HTTP API with the single route `POST /webhook` proxied to the function (payload format 2.0).
 * Its `$default` stage is throttled per stage and writes JSON access logs (no headers, no body:
 * the signature header and the roster stay out of the logs).
 */
export class WebhookApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** https://…/webhook */
  readonly webhookUrl: string;
  /** https://…/scim/v2: the SCIM base URL an IdP is given */
  readonly scimBaseUrl: string;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-webhook`,
      description: 'invite-sync: HR webhook (Standard Webhooks signatures) and SCIM 2.0 (bearer tokens), both checked by the function',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    const integration = new HttpLambdaIntegration('Handler', props.handler, { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 });
    const [route] = this.api.addRoutes({ path: '/webhook', methods: [apigwv2.HttpMethod.POST], integration });
    if (route?.node.defaultChild) {
      Validations.of(route.node.defaultChild).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'The HR system cannot obtain AWS or Cognito credentials; every request is authenticated by its Standard Webhooks HMAC signature, which the function verifies against the webhook secret before reading the body.',
      });
    }
    const scimRoutes = this.api.addRoutes({ path: `${SCIM_ROUTE_BASE}/{proxy+}`, methods: [apigwv2.HttpMethod.ANY], integration });
    for (const r of scimRoutes) {
      if (r.node.defaultChild) {
        Validations.of(r.node.defaultChild).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'Identity providers (Okta, Entra) provision with a static SCIM bearer token and cannot sign AWS requests; the function checks the token (constant time, per-token throttle) before reading the body.',
        });
      }
    }
    const cfnStage = this.stage.node.defaultChild as apigwv2.CfnStage;
    cfnStage.routeSettings = {
      // a Json property: CloudFormation spells it as written
      [SCIM_ROUTE_KEY]: { ThrottlingRateLimit: props.scimThrottle.rateLimit, ThrottlingBurstLimit: props.scimThrottle.burstLimit },
    };
    for (const r of scimRoutes) cfnStage.node.addDependency(r);
    this.webhookUrl = `${this.stage.url.replace(/\/$/, '')}/webhook`;
    this.scimBaseUrl = `${this.stage.url.replace(/\/$/, '')}${SCIM_ROUTE_BASE}`;
  }
}
