import type { Command } from 'commander';

/** placeholder: replaced by the module's owner */
export function register(_program: Command): void {}
