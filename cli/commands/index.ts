/**
 * The command registry: one entry per command module, in `--help` order. A module exports a
 * CommandDef (or several, for sub-commands) and is listed here.
 */
import type { CommandDef } from '../io.ts';

export const COMMANDS: CommandDef[] = [
  // commands: one spread per module
];
