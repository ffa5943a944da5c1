// bench (parent, IPC) --> emulator-host (child process) --> startEmulator: the Losant emulator on its own core
//
// The emulator runs out of the measured process so its CPU (JSON of whole collections, sorting) is
// not billed to the client under test, as with the real Losant API.
import { createServer, type Server } from 'node:http';
import { startEmulator, type EmulatorFaults, type EmulatorOptions, type RunningEmulator } from '../../emulator/index.ts';

export type HostRequest =
  | { id: number; op: 'start'; options: EmulatorOptions }
  | { id: number; op: 'stats' | 'reset' | 'close' | 'cpu' }
  | { id: number; op: 'setFaults'; faults: EmulatorFaults }
  | { id: number; op: 'invites'; instanceId: string; orgId: string }
  | { id: number; op: 'static'; bytes: number; latencyMs: number };

export type HostReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

let emulator: RunningEmulator | undefined;
let staticSender: { server: Server; url: string; body: Buffer; latencyMs: number } | undefined;

/**
 * The static sender: node:http in this same process answering every request, after `latencyMs`, with 201 and
 * one preallocated JSON body of `bytes` bytes (no state, no serializing, no copy). What sending that many bytes
 * per answer costs a process that does nothing else: the wire's share of the emulator's CPU (bench 2l, 2m).
 */
async function startStatic(bytes: number, latencyMs: number): Promise<string> {
  const pad = Math.max(0, bytes - '{"items":[],"pad":""}'.length);
  const body = Buffer.from(`{"items":[],"pad":"${'x'.repeat(pad)}"}`);
  if (staticSender) {
    staticSender.body = body;
    staticSender.latencyMs = latencyMs;
    return staticSender.url;
  }
  const sender = { body, latencyMs } as { server: Server; url: string; body: Buffer; latencyMs: number };
  sender.server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'content-length': sender.body.length });
        res.end(sender.body);
      }, sender.latencyMs);
    });
  });
  await new Promise<void>((resolve) => sender.server.listen(0, '127.0.0.1', resolve));
  const address = sender.server.address();
  sender.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  staticSender = sender;
  return sender.url;
}

function running(): RunningEmulator {
  if (!emulator) throw new Error('emulator not started');
  return emulator;
}

async function handle(req: HostRequest): Promise<unknown> {
  switch (req.op) {
    case 'start':
      emulator = await startEmulator({ port: 0, ...req.options });
      return { url: emulator.url };
    case 'stats':
      return running().stats();
    case 'reset':
      running().reset();
      return null;
    case 'setFaults':
      running().setFaults(req.faults);
      return null;
    case 'cpu':
      // the host's own CPU (user + system, µs): what building and sending answers costs the emulator
      return process.cpuUsage();
    case 'invites':
      return running().invites(req.instanceId, req.orgId);
    case 'static':
      return { url: await startStatic(req.bytes, req.latencyMs) };
    case 'close':
      staticSender?.server.closeAllConnections();
      staticSender?.server.close();
      await emulator?.close();
      emulator = undefined;
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (msg: HostRequest) => {
  handle(msg).then(
    (value) => process.send?.({ id: msg.id, ok: true, value } satisfies HostReply),
    (err: unknown) => process.send?.({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies HostReply),
  );
});
// the parent went away: do not linger
process.on('disconnect', () => {
  void (emulator?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
