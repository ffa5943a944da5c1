// Unit test: resolveStageTarget --> a real CloudFormationClient pointed at a tiny DescribeStacks server on 127.0.0.1
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { resolveStageTarget, stageRegion } from '../../cli/stage-target.ts';
import { CliError } from '../../cli/exit-codes.ts';

let server: Server;
let endpoint: string;
let dir: string;
const asked: URLSearchParams[] = [];
/** the outputs the fake stack answers with; null: the stack does not exist */
let outputs: Record<string, string> | null = {};

function describeStacksXml(stackName: string, out: Record<string, string>): string {
  const members = Object.entries(out)
    .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
    .join('');
  return `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>` +
    `<StackName>${stackName}</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${stackName}/x</StackId>` +
    `<StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2020-01-01T00:00:00Z</CreationTime><Outputs>${members}</Outputs>` +
    `</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>`;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      asked.push(form);
      const name = form.get('StackName') ?? '';
      if (outputs === null) {
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(describeStacksXml(name, outputs));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-stage-target-'));
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const client = () => new CloudFormationClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' }, maxAttempts: 1 });

describe('Function: resolveStageTarget', () => {
  it('returns the table and queue of stack InviteSync-<stage> from its outputs', async () => {
    // Arrange
    outputs = { TableName: 'InviteSync-prod-StateTable-ABC', ReconcileQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q', DashboardUrl: 'https://x' };
    asked.length = 0;

    // Act
    const target = await resolveStageTarget('prod', { env: {}, cloudFormation: client() });

    // Assess
    expect(asked.map((f) => [f.get('Action'), f.get('StackName')])).toEqual([['DescribeStacks', 'InviteSync-prod']]);
    expect(target).toMatchObject({ stage: 'prod', tableName: 'InviteSync-prod-StateTable-ABC', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q', source: 'stack InviteSync-prod' });
  });

  it('returns STATE_TABLE and RECONCILE_QUEUE_URL without asking CloudFormation', async () => {
    // Arrange
    asked.length = 0;

    // Act
    const target = await resolveStageTarget('dev', { env: { STATE_TABLE: 't1', RECONCILE_QUEUE_URL: 'http://127.0.0.1:1/q' }, cloudFormation: client() });

    // Assess
    expect(asked).toHaveLength(0);
    expect(target).toMatchObject({ tableName: 't1', queueUrl: 'http://127.0.0.1:1/q', source: 'STATE_TABLE' });
  });

  it('throws exit 4 naming the stack when it does not exist', async () => {
    // Arrange
    outputs = null;

    // Act
    const err = await resolveStageTarget('nosuch', { env: {}, cloudFormation: client() }).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(4);
    expect((err as CliError).message).toMatch(/could not describe stack InviteSync-nosuch: .*does not exist/);
  });

  it('throws exit 4 when the stack has no TableName output', async () => {
    // Arrange
    outputs = { DashboardUrl: 'https://x' };

    // Act
    const err = await resolveStageTarget('old', { env: {}, cloudFormation: client() }).catch((e: unknown) => e);

    // Assess
    expect((err as CliError).exitCode).toBe(4);
    expect((err as CliError).message).toContain('stack InviteSync-old has no TableName output');
  });

  it('throws exit 2 for a stage name that is no stage name', async () => {
    // Act
    const err = await resolveStageTarget('Prod; rm', { env: {}, cloudFormation: client() }).catch((e: unknown) => e);

    // Assess
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toContain('--stage');
  });
});

describe('Function: stageRegion', () => {
  it('returns the region of the stage file, else AWS_REGION', async () => {
    // Arrange
    await writeFile(join(dir, 'blue.stage.json'), JSON.stringify({ region: 'ap-southeast-2', other: true }));

    // Act
    const fromFile = stageRegion('blue', { AWS_REGION: 'us-west-2' }, dir);
    const fromEnv = stageRegion('green', { AWS_REGION: 'us-west-2' }, dir);

    // Assess
    expect(fromFile).toBe('ap-southeast-2');
    expect(fromEnv).toBe('us-west-2');
  });

  it('throws exit 2 naming region when the stage file holds a bad one', async () => {
    // Arrange
    await writeFile(join(dir, 'bad.stage.json'), JSON.stringify({ region: 'mars' }));

    // Act
    const err = (() => {
      try {
        stageRegion('bad', {}, dir);
      } catch (e) {
        return e;
      }
    })();

    // Assess
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(/bad\.stage\.json: region must be an AWS region/);
  });
});
