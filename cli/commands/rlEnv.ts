/**
 * `rl env`: replays a fixed list of actions through the TradingEnv and prints every step's
 * accounting, so a user can check it by hand (issue 10 item 7). The market's features are built
 * as `rl features` builds them (same --inverse, --modules), the environment takes ENV.json.
 */
import { basename } from 'node:path';
import type { JobContext } from '../../src/core/jobs.ts';
import { configHelp } from '../../src/core/config.ts';
import { FEATURE_CONFIG_SPEC } from '../../src/core/features/featureMatrix.ts';
import { parseEnvConfig } from '../../src/core/rl/envConfig.ts';
import { parseReplayInput, replayActions } from '../../src/core/rl/replay.ts';
import { MARKET_FEATURE_HELP, MARKET_FEATURE_OPTIONS, marketAndFeatures, readJsonFile } from '../rlInputs.ts';
import { parse, requireOption, type CommandDef } from '../io.ts';

const rlEnv: CommandDef = {
  name: 'rl env',
  summary: 'replay {"start", "actions"} through the TradingEnv and print each step’s accounting',
  usage: `npm run --silent cli -- rl env --market MARKET.npz --actions ACTIONS.json [--config ENV.json]
      [--inverse CKPT] [--modules btc,generic,…] [--features FEATURES.json] [feature flags of rl features]

${MARKET_FEATURE_HELP}
  --actions FILE           {"start": t0, "actions": [a0, a1, …]}: action k is taken at step t0 + k
                           (t0 at or after the features' warmup; every action before the last step)
  --config ENV.json        EnvConfig (camelCase keys: initialCapital, transactionCost, slippageBps,
                           maxLeverage, ruinFraction, maxEpisodeSteps, funding, reward, rewardPreset,
                           rewardConfig {pnlScale, turnoverPenalty, drawdownPenalty, leveragePenalty,
                           targetVol, volPenalty, volWindow}, window, clipValue); omitted: defaults

  stdout: {"start", "warmup", "features", "steps": [{"t", "action", "reward", "equity", "units",
  "cash", "cost", "exposure", "terminated", "truncated"}, …]} — t is the step the action was taken
  at; the replay ends with the actions or at the first terminated / truncated step.

  feature flags (FeatureConfig, src/core/features/featureMatrix.ts, as rl features takes them):
${configHelp(FEATURE_CONFIG_SPEC)}`,
  async run(argv, ctx: JobContext) {
    const { values: v } = parse(argv, { ...MARKET_FEATURE_OPTIONS, actions: { type: 'string' }, config: { type: 'string' } });
    requireOption(v.market, '--market');
    const actionsFile = requireOption(v.actions, '--actions');
    // Read and check the small inputs before the (slower) feature build.
    const input = parseReplayInput(readJsonFile(actionsFile), basename(actionsFile));
    const env = v.config ? parseEnvConfig(readJsonFile(v.config), basename(v.config)) : parseEnvConfig({}, 'env');
    const { features, market } = await marketAndFeatures(v, ctx);
    const r = replayActions(market, features, env, input, basename(actionsFile));
    return { start: r.start, warmup: features.warmup, features: features.d, steps: r.steps };
  },
};

export const rlEnvCommands: CommandDef[] = [rlEnv];
