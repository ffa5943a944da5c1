// bench (parent, IPC) --> emulator-host (child process) --> startEmulator: the Losant emulator on its own core
//
// The emulator runs out of the measured process so its CPU (JSON of whole collections, sorting) is
// not billed to the client under test, as with the real Losant API.
import { startEmulator, type EmulatorFaults, type EmulatorOptions, type RunningEmulator } from '../../emulator/index.ts';

export type HostRequest =
  | { id: number; op: 'start'; options: EmulatorOptions }
  | { id: number; op: 'stats' | 'reset' | 'close' | 'cpu' }
  | { id: number; op: 'setFaults'; faults: EmulatorFaults }
  | { id: number; op: 'invites'; instanceId: string; orgId: string };

export type HostReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

let emulator: RunningEmulator | undefined;

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
    case 'close':
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
