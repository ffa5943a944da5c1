// tests / CLI / demo --> emulator: a contract-faithful Losant invites API on real HTTP, with fault injection
export {
  startEmulator, EmulatorOptionsError, EmulatorStartError,
  type EmulatorOptions, type EmulatorFaults, type EmulatorStats, type RunningEmulator,
} from './server.ts';
export { DEFAULT_ID, DEFAULT_TOKEN, EmulatorSeedSchema, SeedError, loadSeedFile, parseSeed, type EmulatorSeed } from './seed.ts';
export { EmulatorNotFoundError, EmulatorStateError, INVITE_LIFETIME_MS, type EmulatorInvite, type EmulatorMember } from './state.ts';
export { globMatch } from './glob.ts';
