/**
 * The command registry: one entry per command module, in `--help` order. A module exports a
 * CommandDef (or several, for sub-commands) and is listed here.
 */
import type { CommandDef } from '../io.ts';
import { surfaceCommands } from './surface.ts';
import { doctor } from './doctor.ts';
import { selftest } from './selftest.ts';
import { feedCommands } from './feeds.ts';
import { inverseCommands } from './inverse.ts';
import { runsCommands } from './runs.ts';
import { hestonCommands } from './heston.ts';
import { rlAgentCommands } from './rlAgent.ts';
import { RL_COMMANDS } from './rl.ts';
import { rlEnvCommands } from './rlEnv.ts';
import { smileCommands } from './smile.ts';

export const COMMANDS: CommandDef[] = [
  // commands: one spread per module
  ...hestonCommands,
  ...surfaceCommands,
  ...feedCommands,
  ...inverseCommands,
  ...runsCommands,
  ...RL_COMMANDS,
  ...rlAgentCommands,
  ...rlEnvCommands,
  ...smileCommands,
  doctor,
  selftest,
];
