import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { rlAgentCommands } from '../../../cli/commands/rlAgent.ts';
import { simulateMarket } from '../../../src/core/market/simulator.ts';
import { writeMarketNpz } from '../../../src/core/market/marketData.ts';

const dir = mkdtempSync(join(tmpdir(), 'rl-agent-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cmd = (name: string) => rlAgentCommands.find((c) => c.name === name)!;

describe('rl CLI (PPO)', () => {
  it('rl gae gives the hand-worked advantages in float64', async () => {
    const f = join(dir, 'gae.json');
    writeFileSync(f, JSON.stringify({ rewards: [1, 2, 0.5, -1, 3], values: [0.5, 1, 0.2, 0.4, 0.6], dones: [0, 1, 0, 1, 0], truncated: [0, 0, 0, 1, 0], truncated_values: [0, 0, 0, 2, 0], last_value: 1.5, gamma: 0.9, lam: 0.8 }));
    const r = (await cmd('rl gae').run(['--in', f], {})) as { advantages: number[]; returns: number[] };
    [2.12, 1, 0.948, 0.4, 3.75].forEach((a, i) => expect(r.advantages[i]).toBeCloseTo(a, 12)); // tests/unit/rl/gae.test.ts works them out
    writeFileSync(f, JSON.stringify({ rewards: [1], values: [0], dones: [0], last_value: 0, gama: 0.9 }));
    await expect(cmd('rl gae').run(['--in', f], {})).rejects.toThrow(/gae.json: unknown key "gama"/);
  });

  it('rl stats prints the statistics with periods_per_year (default 365)', async () => {
    const f = join(dir, 'eq.json');
    writeFileSync(f, JSON.stringify([100, 110, 99, 108.9]));
    const r = (await cmd('rl stats').run(['--equity', f, '--periods-per-year', '3'], {})) as Record<string, number>;
    expect(r.sharpe).toBeCloseTo(0.5, 12); // worked in tests/unit/rl/pnlStats.test.ts
    expect(r.periods_per_year).toBe(3);
    expect(((await cmd('rl stats').run(['--equity', f], {})) as Record<string, number>).periods_per_year).toBe(365);
    writeFileSync(f, JSON.stringify([100, 'x']));
    await expect(cmd('rl stats').run(['--equity', f], {})).rejects.toThrow(/eq.json: equity: element 1/);
  });

  it('rl train writes an agent and logs it to tracking; rl backtest reads it and refuses an overlapping span', async () => {
    const market = join(dir, 'gbm.npz');
    writeFileSync(market, writeMarketNpz(simulateMarket({ nSteps: 700 }, 3)));
    const feats = join(dir, 'features.json');
    writeFileSync(feats, JSON.stringify({ modules: 'generic' }));
    const out = join(dir, 'agent.hlckpt');
    const mlruns = join(dir, 'mlruns');
    const t = (await cmd('rl train').run(['--market', market, '--features', feats, '--steps', '512', '--seed', '2', '--rollout-len', '256', '--num-envs', '4', '--epochs', '2', '--out', out, '--tracking-uri', mlruns, '--experiment', 'cli-test'], {})) as Record<string, any>;
    expect(existsSync(out)).toBe(true);
    expect(t.iterations).toBe(2);
    expect(t.train_span).toEqual({ start: 0, end: 490 });
    expect(t.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Number.isFinite(t.final.approx_kl)).toBe(true);
    // Item 8's stdout: the final diagnostics (CleanRL's), steps/s and seconds.
    expect(Object.keys(t.final).sort()).toEqual(['approx_kl', 'clip_frac', 'entropy', 'explained_variance', 'lr', 'mean_episode_equity', 'mean_episode_return', 'mean_equity', 'policy_loss', 'value_loss']);
    expect(t.steps_per_sec).toBeGreaterThan(0);
    expect(t.seconds).toBeGreaterThan(0);
    // MLflow FileStore: the run holds the agent as an artifact.
    const exp = readdirSync(mlruns).find((d) => /^\d+$/.test(d) && d !== '0' && existsSync(join(mlruns, d, t.run_id)))!;
    expect(existsSync(join(mlruns, exp, t.run_id, 'artifacts', 'checkpoints', 'agent.hlckpt'))).toBe(true);
    const b = (await cmd('rl backtest').run(['--agent', out, '--market', market], {})) as Record<string, any>;
    // Issue 11 item 8's keys exactly (plus psr, periods_per_year, the spans, ruin, market and agent hash).
    expect(Object.keys(b).sort()).toEqual(['agent', 'agent_hash', 'buy_and_hold', 'flat', 'market', 'n_steps', 'periods_per_year', 'psr', 'sharpe_ci', 'span', 'terminated', 'train_span']);
    // Item 5's statistics, the original design's five keys first, for the agent and both baselines.
    const STATS = ['pnl', 'sharpe', 'max_drawdown', 'avg_ret', 'vol_ret', 'total_return', 'annual_return', 'annual_vol', 'sortino', 'calmar', 'turnover', 'exposure', 'hit_rate'];
    for (const k of ['agent', 'buy_and_hold', 'flat']) expect(Object.keys(b[k]).sort()).toEqual([...STATS].sort());
    expect(b.sharpe_ci).toHaveLength(2);
    expect(b.sharpe_ci[0]).toBeLessThanOrEqual(b.agent.sharpe);
    expect(b.sharpe_ci[1]).toBeGreaterThanOrEqual(b.agent.sharpe);
    expect(b.n_steps).toBe(699 - 490);
    expect(b.periods_per_year).toBe(8760);
    await expect(cmd('rl backtest').run(['--agent', out, '--market', market, '--from-fraction', '0.5'], {})).rejects.toThrow(/inside the agent's training span/);
  }, 60_000);
});
