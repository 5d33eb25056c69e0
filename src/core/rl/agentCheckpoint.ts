/**
 * The PPO agent's checkpoint schema on the generic bundle (src/core/io/bundle.ts, kind
 * 'ppo-agent'): one downloadable .hlckpt holding what a backtest needs to reproduce exactly what
 * training saw — both networks and logStd (tensors, in parameterShapes order), the PPOConfig, the
 * env/reward config, the feature config and the feature names, the StateBuilder statistics (frozen
 * for evaluation), and a signature of the market it was trained on (bar interval, surface grid,
 * train span) so a backtest on an incompatible market is refused with the difference named.
 * Nothing in the file is executed: the bundle admits plain JSON, and every field is checked here.
 */
import { InputError } from '../errors.ts';
import { ManifestReader, decodeBundle, encodeBundle, type JsonValue } from '../io/bundle.ts';
import { StateBuilder, type StateBuilderJson } from '../features/stateBuilder.ts';
import { resolveEnvConfig, type EnvConfig } from './envConfig.ts';
import { PPOAgent, parameterShapes, type AgentTopology } from './ppoAgent.ts';
import { resolvePpoConfig, type PPOConfig } from './ppoConfig.ts';

export const AGENT_KIND = 'ppo-agent';
export const AGENT_SCHEMA_VERSION = 1;
const METADATA_KEYS = ['name', 'created', 'topology', 'ppoConfig', 'envConfig', 'featureConfig', 'featureNames', 'stateBuilder', 'market', 'provenance'] as const;

/** What the agent was trained on, compared field by field before a backtest. */
export interface MarketSignature {
  name: string;
  /** Steps of the training market. */
  nSteps: number;
  dtYears: number;
  kGrid: number[];
  tGrid: number[];
  /** Steps used for training: [start, end). */
  trainSpan: { start: number; end: number };
  trainFraction: number;
}

export interface AgentCheckpoint {
  name: string;
  created: string;
  topology: AgentTopology;
  ppoConfig: PPOConfig;
  envConfig: EnvConfig;
  /** The FeatureConfig the features were built with (plain JSON: features.ts owns its shape). */
  featureConfig: { [k: string]: JsonValue };
  featureNames: string[];
  stateBuilder: StateBuilderJson;
  market: MarketSignature;
  /** Seed, iterations, steps, final diagnostics, inverse checkpoint hash … (plain JSON). */
  provenance: { [k: string]: JsonValue };
  params: Map<string, Float32Array>;
}

export interface LoadedAgentCheckpoint extends AgentCheckpoint {
  hash: string;
}

export async function encodeAgentCheckpoint(c: AgentCheckpoint): Promise<Uint8Array> {
  const shapes = parameterShapes(c.topology);
  return encodeBundle({
    kind: AGENT_KIND,
    schemaVersion: AGENT_SCHEMA_VERSION,
    metadata: {
      name: c.name,
      created: c.created,
      topology: { ...c.topology, hiddenSizes: [...c.topology.hiddenSizes] },
      ppoConfig: c.ppoConfig as unknown as JsonValue,
      envConfig: c.envConfig as unknown as JsonValue,
      featureConfig: c.featureConfig,
      featureNames: [...c.featureNames],
      stateBuilder: c.stateBuilder as unknown as JsonValue,
      market: c.market as unknown as JsonValue,
      provenance: c.provenance,
    },
    tensors: shapes.map(({ name, shape }) => {
      const data = c.params.get(name);
      if (!data) throw new Error(`encodeAgentCheckpoint: parameter ${name} is missing`);
      return { name, shape, data };
    }),
  });
}

export async function decodeAgentCheckpoint(bytes: Uint8Array, file: string): Promise<LoadedAgentCheckpoint> {
  const b = await decodeBundle(bytes, { file, kind: AGENT_KIND });
  const r = new ManifestReader(file);
  if (b.schemaVersion !== AGENT_SCHEMA_VERSION) r.fail('schema_version', `this lab reads ppo-agent schema ${AGENT_SCHEMA_VERSION}, the file has ${b.schemaVersion}`);
  const m = b.metadata;
  r.exactKeys(m, 'manifest', METADATA_KEYS);
  const t = r.obj(m.topology, 'topology');
  r.exactKeys(t, 'topology', ['obsDim', 'actDim', 'hiddenSizes', 'activation']);
  const topology: AgentTopology = {
    obsDim: r.int(t.obsDim, 'topology.obsDim', 1, 1 << 20),
    actDim: r.int(t.actDim, 'topology.actDim', 1, 64),
    hiddenSizes: r.nums(t.hiddenSizes, 'topology.hiddenSizes').map((h, i) => r.int(h, `topology.hiddenSizes[${i}]`, 1, 4096)),
    activation: t.activation === 'tanh' || t.activation === 'relu' ? t.activation : r.fail('topology.activation', 'must be "tanh" or "relu"'),
  };
  const ppoConfig = resolvePpoConfig(m.ppoConfig, `${file}: ppoConfig`);
  const envConfig = resolveEnvConfig(m.envConfig, `${file}: envConfig`);
  const featureConfig = r.obj(m.featureConfig, 'featureConfig') as { [k: string]: JsonValue };
  if (!Array.isArray(m.featureNames)) r.fail('featureNames', 'must be an array of strings');
  const featureNames = (m.featureNames as unknown[]).map((x, i) => r.str(x, `featureNames[${i}]`, 200));
  // Rebuilding the StateBuilder checks the statistics (counts, finite moments) and their size.
  const sb = StateBuilder.fromJSON(m.stateBuilder, `${file}: stateBuilder`);
  if (sb.dim !== featureNames.length) r.fail('stateBuilder.dim', `is ${sb.dim} but there are ${featureNames.length} feature names`);
  if (sb.stateSize + 1 !== topology.obsDim) r.fail('topology.obsDim', `is ${topology.obsDim} but window ${sb.window} × ${sb.dim} features + exposure = ${sb.stateSize + 1}`);
  const mk = r.obj(m.market, 'market');
  r.exactKeys(mk, 'market', ['name', 'nSteps', 'dtYears', 'kGrid', 'tGrid', 'trainSpan', 'trainFraction']);
  const span = r.obj(mk.trainSpan, 'market.trainSpan');
  const market: MarketSignature = {
    name: r.str(mk.name, 'market.name'),
    nSteps: r.int(mk.nSteps, 'market.nSteps', 1, 2 ** 31 - 1),
    dtYears: r.num(mk.dtYears, 'market.dtYears'),
    kGrid: r.nums(mk.kGrid, 'market.kGrid'),
    tGrid: r.nums(mk.tGrid, 'market.tGrid'),
    trainSpan: { start: r.int(span.start, 'market.trainSpan.start', 0, 2 ** 31 - 1), end: r.int(span.end, 'market.trainSpan.end', 1, 2 ** 31 - 1) },
    trainFraction: r.num(mk.trainFraction, 'market.trainFraction'),
  };
  const params = new Map<string, Float32Array>();
  const shapes = parameterShapes(topology);
  if (b.tensors.length !== shapes.length) r.fail('weights', `holds ${b.tensors.length} tensors, the topology needs ${shapes.length}`);
  shapes.forEach(({ name, shape }, i) => {
    const x = b.tensors[i]!;
    if (x.name !== name) r.fail(`weights[${i}].name`, `expected "${name}", got "${x.name}"`);
    if (x.shape.join(',') !== shape.join(',')) r.fail(`weights[${i}].shape`, `${name} must be [${shape}], got [${x.shape}]`);
    params.set(name, x.data);
  });
  return {
    name: r.str(m.name, 'name'),
    created: r.str(m.created, 'created'),
    topology,
    ppoConfig,
    envConfig,
    featureConfig,
    featureNames,
    stateBuilder: sb.toJSON(),
    market,
    provenance: r.obj(m.provenance, 'provenance') as { [k: string]: JsonValue },
    params,
    hash: b.hash,
  };
}

/** The agent of a checkpoint, ready to act (tf variables on the active backend). */
export function agentFromCheckpoint(c: AgentCheckpoint): PPOAgent {
  return new PPOAgent(c.topology, c.params);
}

/** The checkpoint's StateBuilder, frozen: evaluation never updates the training statistics. */
export function frozenStateBuilder(c: AgentCheckpoint): StateBuilder {
  const sb = StateBuilder.fromJSON(c.stateBuilder, 'checkpoint: stateBuilder');
  sb.freeze();
  return sb;
}

/** Refuses a checkpoint's field that does not match (a helper for callers that compare). */
export function mismatch(what: string, agentValue: unknown, marketValue: unknown, file: string): InputError {
  return new InputError(`${what} differs: the agent was trained with ${JSON.stringify(agentValue)}, the market has ${JSON.stringify(marketValue)}`, file);
}
