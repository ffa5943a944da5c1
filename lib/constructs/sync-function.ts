// InviteSyncStack --> SyncFunction (reconcile: reconcile.handler.ts; HTTP: webhook.handler.ts) --> NodejsFunction
import { posix, relative, isAbsolute, join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { RUN_EVENT_BUS, RUN_EVENT_SOURCE } from '../../functions/notify/run-event-names.ts';

/** File name of the stage's sync config inside the bundle; the handler reads SYNC_CONFIG_FILE. */
export const BUNDLED_SYNC_CONFIG = 'sync-config.json';

/** Lambda timeout unless the function is given its own (the reconcile function: the stage's `timeoutSeconds`). */
export const FUNCTION_TIMEOUT = Duration.minutes(5);

/** What the state store (functions/state/dynamo-store.ts) does with the table; transactions need no more. */
export const STATE_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

const DEFAULT_DESCRIPTION = 'invite-sync: keeps Losant org invites in step with the HR roster';

/** ESM output still meets CommonJS dependencies that call `require`: give them one. */
const ESM_REQUIRE_BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export interface SyncFunctionProps {
  /** directory holding package.json and package-lock.json */
  readonly projectRoot: string;
  /** the handler module, relative to the project root. @default 'functions/handlers/reconcile.handler.ts' */
  readonly entry?: string;
  /** @default 'invite-sync: keeps Losant org invites in step with the HR roster' */
  readonly description?: string;
  /** absolute path of the stage's sync config, already validated; copied into the bundle */
  readonly syncConfigFile: string;
  readonly logRetention: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** @default - unreserved */
  readonly reservedConcurrency?: number;
  /** memory, MB (default 512) */
  readonly memoryMb?: number;
  /** @default FUNCTION_TIMEOUT (5 minutes) */
  readonly timeout?: Duration;
  /** environment beyond what the bind helpers set */
  readonly environment: Record<string, string>;
}

/**
 * One invite-sync function (the stack has two: the reconcile function behind the schedule, the HR
 * bus and the reconcile queue, and the HTTP function behind the webhook), with fixed defaults:
 * Node.js 22 on ARM64, 512 MB, 5 minutes, minified ESM with source maps, an explicit log group with
 * retention and its own role. The role has no AWSLambdaBasicExecutionRole: it may write to its own
 * log group only, and gains everything else through the bind helpers, which set the environment
 * variable and grant access in one place.
 */
export class SyncFunction extends Construct {
  readonly fn: NodejsFunction;
  /** the CloudFormation resource: where acknowledgements for the function belong */
  readonly cfnFunction: lambda.CfnFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SyncFunctionProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description ?? DEFAULT_DESCRIPTION}: its own log group and what its bind helpers grant`,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.logGroup.grantWrite(this.role);

    const configSource = bundleSourcePath(props.projectRoot, props.syncConfigFile);
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(props.projectRoot, props.entry ?? 'functions/handlers/reconcile.handler.ts'),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb ?? 512,
      timeout: props.timeout ?? FUNCTION_TIMEOUT,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrency,
      description: props.description ?? DEFAULT_DESCRIPTION,
      environment: {
        ...props.environment,
        SYNC_CONFIG_FILE: BUNDLED_SYNC_CONFIG,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        logLevel: LogLevel.WARNING,
        // The AWS SDK v3 comes from the nodejs22.x runtime (@aws-sdk/* stays external): the bundle is
        // then our code + undici + zod + Powertools (~1.1 MB instead of ~1.5 MB; `npm run bench`,
        // scenario 5), and the runtime's SDK is the one AWS patches. Everything else is bundled.
        bundleAwsSDK: false,
        externalModules: ['@aws-sdk/*'],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => [
            `cp ${shellQuote(configSource.relative ? posix.join(inputDir, configSource.path) : configSource.path)} ${shellQuote(
              posix.join(outputDir, BUNDLED_SYNC_CONFIG),
            )}`,
          ],
        },
      },
    });
    this.cfnFunction = this.fn.node.defaultChild as lambda.CfnFunction;
  }

  /**
   * Sets STATE_TABLE and grants the item-level actions the state store uses on this table only:
   * no Scan, no streams, no table management (grantReadWriteData would add all three).
   */
  bindTable(table: dynamodb.ITable, envName = 'STATE_TABLE'): void {
    this.fn.addEnvironment(envName, table.tableName);
    table.grant(this.fn, ...STATE_TABLE_ACTIONS);
  }

  /** Sets `<envName>` to the secret's ARN and grants GetSecretValue/DescribeSecret on that secret only. */
  bindSecret(secret: secretsmanager.ISecret, envName: string): void {
    this.fn.addEnvironment(envName, secret.secretArn);
    secret.grantRead(this.fn);
  }

  /**
   * Sets `<envName>` to the secret's ARN without any grant: the composition root wants both secret
   * ARNs in every function, and this function never reads this one.
   */
  referSecret(secret: secretsmanager.ISecret, envName: string): void {
    this.fn.addEnvironment(envName, secret.secretArn);
  }

  /**
   * Sets `<envName>` to the default bus and lets the function put events there with source
   * `invite-sync` only (`events:source` condition): the Sync Run Completed events.
   */
  bindRunEvents(envName = 'RUN_EVENT_BUS'): void {
    this.fn.addEnvironment(envName, RUN_EVENT_BUS);
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [Stack.of(this).formatArn({ service: 'events', resource: 'event-bus', resourceName: RUN_EVENT_BUS })],
        conditions: { StringEquals: { 'events:source': RUN_EVENT_SOURCE } },
      }),
    );
  }

  /** Sets `<envName>` to the queue URL and lets the function send to it. */
  bindQueueSender(queue: sqs.IQueue, envName: string): void {
    this.fn.addEnvironment(envName, queue.queueUrl);
    queue.grantSendMessages(this.fn);
  }
}

/** The config file relative to the project root (works for local and Docker bundling) when it lies inside it. */
function bundleSourcePath(projectRoot: string, file: string): { path: string; relative: boolean } {
  const rel = relative(projectRoot, file);
  if (rel.startsWith('..') || isAbsolute(rel)) return { path: file, relative: false };
  return { path: rel.split(/[\\/]/).join('/'), relative: true };
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
