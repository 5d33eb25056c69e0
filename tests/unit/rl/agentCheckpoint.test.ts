import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAgentCheckpoint, encodeAgentCheckpoint, agentFromCheckpoint } from '../../../src/core/rl/agentCheckpoint.ts';
import { trainOnMarket } from '../../../src/core/rl/ppo.ts';
import { initBackend } from '../../../src/core/backend/backends.ts';
import { Rng } from '../../../src/core/math/rng.ts';
import { regimeMarket } from './ppoFixtures.ts';

beforeAll(async () => {
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(a.error);
});

describe('agent checkpoint', () => {
  it('round trip: same networks, logStd, configs, statistics → identical actions', async () => {
    const { market, features } = regimeMarket(600, 1);
    const r = await trainOnMarket({ market, features, featureConfig: { modules: 'generic' }, envConfig: { window: 4, reward: 'risk', rewardConfig: { turnoverPenalty: 0.003 } }, ppo: { rolloutLen: 128, numEnvs: 4, minibatchSize: 64, epochs: 1, totalSteps: 256, seed: 2 }, trainFraction: 0.7 });
    const bytes = await encodeAgentCheckpoint(r.checkpoint);
    const back = await decodeAgentCheckpoint(bytes, 'agent.hlckpt');
    expect(back.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(back.ppoConfig).toEqual(r.config);
    // Everything item 4 lists: env AND reward config, feature config and names, StateBuilder statistics.
    expect(back.envConfig).toEqual(r.checkpoint.envConfig);
    expect(back.envConfig).toMatchObject({ window: 4, reward: 'risk', rewardConfig: { turnoverPenalty: 0.003 } });
    expect(back.featureConfig).toEqual(r.checkpoint.featureConfig);
    expect(back.featureConfig.modules).toBe('generic');
    expect(back.featureNames).toEqual(features.names);
    expect(back.stateBuilder).toEqual(r.checkpoint.stateBuilder);
    expect(back.market.trainSpan).toEqual({ start: 0, end: 420 });
    expect(back.params.get('logStd')).toEqual(r.agent.parameters().get('logStd'));
    const agent = agentFromCheckpoint(back);
    const rng = new Rng(3);
    const obs = Float32Array.from({ length: 16 * back.topology.obsDim }, () => rng.normal());
    const a = r.agent.act(obs, 16, { deterministic: true });
    const b = agent.act(obs, 16, { deterministic: true });
    expect(b.actions).toEqual(a.actions);
    expect(b.values).toEqual(a.values);
    const sa = r.agent.act(obs, 16, { rng: Rng.stream(1, 1) });
    const sb = agent.act(obs, 16, { rng: Rng.stream(1, 1) });
    expect(sb.actions).toEqual(sa.actions);
    // Re-encoding the decoded checkpoint gives the same bytes apart from nothing: same hash.
    expect((await decodeAgentCheckpoint(await encodeAgentCheckpoint(back), 'again')).hash).toBe(back.hash);
    agent.dispose();
    r.agent.dispose();
  });

  it('refuses a damaged or foreign file, naming it', async () => {
    const { market, features } = regimeMarket(300, 1);
    const r = await trainOnMarket({ market, features, featureConfig: {}, envConfig: { window: 2 }, ppo: { rolloutLen: 64, numEnvs: 2, minibatchSize: 32, epochs: 1, totalSteps: 64 } });
    const bytes = await encodeAgentCheckpoint(r.checkpoint);
    const bad = bytes.slice();
    bad[bad.length - 40] ^= 1;
    await expect(decodeAgentCheckpoint(bad, 'x.hlckpt')).rejects.toThrow(/x.hlckpt: content hash mismatch/);
    const wrongObs = await encodeAgentCheckpoint({ ...r.checkpoint, featureNames: ['a'] });
    await expect(decodeAgentCheckpoint(wrongObs, 'y.hlckpt')).rejects.toThrow(/y.hlckpt.*stateBuilder.dim/);
    r.agent.dispose();
  });
});
