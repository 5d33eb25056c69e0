import { describe, expect, it } from 'vitest';
import { DEFAULT_REWARD_CONFIG, RewardEngine, perYearRewardConfig, simpleReward } from '../../../src/core/rl/rewardEngine.ts';
import { DEFAULT_ENV_CONFIG, ENV_CONFIG_SPEC, effectiveRewardConfig, parseEnvConfig, resolveEnvConfig } from '../../../src/core/rl/envConfig.ts';
import { InputError } from '../../../src/core/errors.ts';

/** Only one penalty on at a time, so each term is read off the reward alone. */
const ZERO = { pnlScale: 0, turnoverPenalty: 0, drawdownPenalty: 0, leveragePenalty: 0, volPenalty: 0, targetVol: 0 };

describe('RewardEngine terms, each by hand', () => {
  it('has the seed’s RewardConfig defaults', () => {
    expect(DEFAULT_REWARD_CONFIG).toEqual({ pnlScale: 1, turnoverPenalty: 0.001, drawdownPenalty: 0.1, leveragePenalty: 0.05, targetVol: 0.02, volPenalty: 0.05, volWindow: 20 });
  });

  it('rel_pnl = equity_{t+1}/equity_t − 1, scaled by pnlScale', () => {
    const e = new RewardEngine({ ...ZERO, pnlScale: 2 }, 10_000);
    // 10 000 → 10 250: rel_pnl 0.025, reward 2·0.025.
    expect(e.computeReward(10_000, 10_250, 0, 0, 100, 100)).toBeCloseTo(0.05, 15);
    expect(e.terms.relPnl).toBeCloseTo(0.025, 15);
  });

  it('turnover = |units′ − units|·p_t / equity_t (traded notional, not the position level)', () => {
    const e = new RewardEngine({ ...ZERO, turnoverPenalty: 0.001 }, 10_000);
    // From +30 to −20 units at p_t = 100 with equity_t 10 000: traded 50·100 = 5000 → 0.5.
    expect(e.computeReward(10_000, 10_000, 30, -20, 100, 120)).toBeCloseTo(-0.0005, 15);
    expect(e.terms.turnover).toBeCloseTo(0.5, 15);
    // Holding a position without trading costs no turnover (the seed's |position|·price would charge 2000).
    e.computeReward(10_000, 10_000, 20, 20, 100, 100);
    expect(e.terms.turnover).toBe(0);
  });

  it('drawdown = equity_{t+1}/peak − 1 with peak ⊇ {initial capital, equity_{t+1}}', () => {
    const e = new RewardEngine({ ...ZERO, drawdownPenalty: 0.1 }, 10_000);
    // Below the initial capital at once: 9000/10000 − 1 = −0.1 → penalty 0.1·0.1.
    expect(e.computeReward(10_000, 9_000, 0, 0, 1, 1)).toBeCloseTo(-0.01, 15);
    expect(e.terms.drawdown).toBeCloseTo(-0.1, 15);
    // A new high: peak 12 000 includes this step's equity → drawdown 0, no penalty.
    expect(e.computeReward(9_000, 12_000, 0, 0, 1, 1)).toBe(0);
    expect(e.terms.drawdown).toBe(0);
    // 12 000 → 10 800: −10 % from the running peak.
    e.computeReward(12_000, 10_800, 0, 0, 1, 1);
    expect(e.terms.drawdown).toBeCloseTo(-0.1, 15);
    e.reset();
    e.computeReward(10_000, 10_800, 0, 0, 1, 1);
    expect(e.terms.drawdown).toBe(0);
  });

  it('leverage = |units′·p_{t+1}| / equity_{t+1}', () => {
    const e = new RewardEngine({ ...ZERO, leveragePenalty: 0.05 }, 10_000);
    // Short 150 units, p_{t+1} = 80, equity 12 000: 12 000/12 000 = 1 → penalty 0.05 (the seed's per-step number).
    expect(e.computeReward(10_000, 12_000, 0, -150, 100, 80)).toBeCloseTo(-0.05, 15);
    expect(e.terms.leverage).toBeCloseTo(1, 15);
  });

  it('vol = population std of the last volWindow rel_pnl values, 0 while fewer than 2', () => {
    const e = new RewardEngine({ ...ZERO, volPenalty: 1, targetVol: 0.01, volWindow: 3 }, 100);
    const step = (eqPrev: number, eqNow: number) => e.computeReward(eqPrev, eqNow, 0, 0, 1, 1);
    expect(step(100, 110)).toBe(0); // one value: vol 0
    expect(e.terms.vol).toBe(0);
    // rel_pnl {0.1, −0.1}: population std 0.1 → penalty 1·(0.1 − 0.01).
    expect(step(100, 90)).toBeCloseTo(-0.09, 14);
    expect(e.terms.vol).toBeCloseTo(0.1, 14);
    // {0.1, −0.1, 0}: mean 0, std √(0.02/3).
    step(100, 100);
    expect(e.terms.vol).toBeCloseTo(Math.sqrt(0.02 / 3), 14);
    // Window 3 drops the first: {−0.1, 0, 0.05}: mean −1/60, std² = ((−0.1+1/60)² + (1/60)² + (0.05+1/60)²)/3.
    step(100, 105);
    const m = -1 / 60;
    expect(e.terms.vol).toBeCloseTo(Math.sqrt(((-0.1 - m) ** 2 + m ** 2 + (0.05 - m) ** 2) / 3), 14);
    // Below the target: no penalty.
    const calm = new RewardEngine({ ...ZERO, volPenalty: 1, targetVol: 0.5, volWindow: 3 }, 100);
    calm.computeReward(100, 110, 0, 0, 1, 1);
    expect(Math.abs(calm.computeReward(100, 90, 0, 0, 1, 1))).toBe(0);
  });

  it('all terms together: the header formula', () => {
    const e = new RewardEngine({}, 10_000);
    e.computeReward(10_000, 10_100, 0, 50, 200, 202); // rel 0.01
    const r = e.computeReward(10_100, 9_999, 50, 100, 202, 199.98);
    const rel = 9_999 / 10_100 - 1;
    const turnover = (50 * 202) / 10_100;
    const dd = 9_999 / 10_100 - 1;
    const lev = (100 * 199.98) / 9_999;
    const vol = Math.abs(0.01 - rel) / 2; // population std of two values
    const want = rel - 0.001 * turnover - 0.1 * -dd - 0.05 * lev - 0.05 * Math.max(0, vol - 0.02);
    expect(r).toBeCloseTo(want, 14);
  });

  it('simple reward = Δequity / initialCapital (the seed’s)', () => {
    expect(simpleReward(11_000, 11_550, 10_000)).toBeCloseTo(0.055, 15);
  });
});

describe('per-year preset', () => {
  it('converts the rates to the bar interval: ·dt for leverage and drawdown, ·√dt for vol target and vol penalty', () => {
    const dt = 1 / 8760;
    const c = perYearRewardConfig(dt);
    expect(c.leveragePenalty).toBeCloseTo(0.05 / 8760, 18);
    expect(c.drawdownPenalty).toBeCloseTo(0.1 / 8760, 18);
    expect(c.targetVol).toBeCloseTo(0.5 / Math.sqrt(8760), 15);
    expect(c.volPenalty).toBeCloseTo(0.05 / Math.sqrt(8760), 15);
    expect(c.turnoverPenalty).toBe(0.001);
    // Summed over a year of hourly steps at full exposure the leverage term costs the 5 %/yr rate.
    expect(8760 * c.leveragePenalty).toBeCloseTo(0.05, 12);
    // A vol excess of 0.1/yr annualised costs 0.05·0.1 per year, whatever the bar.
    for (const d of [1 / 8760, 1 / 365, 1 / 52]) {
      const k = perYearRewardConfig(d);
      const volStep = (0.5 + 0.1) * Math.sqrt(d);
      expect((1 / d) * k.volPenalty * (volStep - k.targetVol)).toBeCloseTo(0.005, 12);
    }
    expect(() => perYearRewardConfig(0)).toThrow(/dtYears/);
  });
});

describe('EnvConfig (ENV.json)', () => {
  it('has the issue’s defaults', () => {
    expect(DEFAULT_ENV_CONFIG).toMatchObject({
      initialCapital: 10_000,
      transactionCost: 0.0005,
      slippageBps: 0,
      maxLeverage: 1,
      ruinFraction: 0.1,
      maxEpisodeSteps: null,
      funding: false,
      reward: 'simple',
      window: 16,
      rewardConfig: DEFAULT_REWARD_CONFIG,
    });
  });

  it('says where the page form and --help show it that the seed preset teaches an agent to stay flat, with the right ratio', () => {
    // The ratio the doc quotes: full-exposure leverage penalty per step / expected hourly return at a
    // 60 %/yr drift = 0.05 / (0.6/8760) ≈ 730; the perYear preset's per-step charge is ≈ 0.08× that return.
    const hourly = 1 / 8760;
    expect(DEFAULT_REWARD_CONFIG.leveragePenalty / (0.6 * hourly)).toBeGreaterThan(650);
    expect(DEFAULT_REWARD_CONFIG.leveragePenalty / (0.6 * hourly)).toBeLessThan(750);
    expect(perYearRewardConfig(hourly).leveragePenalty / (0.6 * hourly)).toBeCloseTo(0.05 / 0.6, 12);
    expect(ENV_CONFIG_SPEC.rewardPreset.doc).toMatch(/~730× the expected return.*stay flat.*perYear/);
  });

  it('fills omitted keys, nested ones included, and refuses unknown keys naming them', () => {
    const c = parseEnvConfig('{"maxLeverage": 2, "reward": "risk", "rewardConfig": {"volWindow": 10}}', 'env.json');
    expect(c.maxLeverage).toBe(2);
    expect(c.rewardConfig).toEqual({ ...DEFAULT_REWARD_CONFIG, volWindow: 10 });
    expect(c.transactionCost).toBe(0.0005);
    expect(() => parseEnvConfig({ maxLeverge: 2 }, 'env.json')).toThrow(/env\.json: unknown key "maxLeverge"/);
    expect(() => parseEnvConfig({ rewardConfig: { pnl_scale: 1 } }, 'env.json')).toThrow(/env\.json: rewardConfig: unknown key "pnl_scale"/);
    expect(() => parseEnvConfig({ reward: 'sharpe' }, 'env.json')).toThrow(InputError);
    expect(() => parseEnvConfig({ maxEpisodeSteps: 2.5 }, 'env.json')).toThrow(/maxEpisodeSteps/);
    expect(parseEnvConfig({ maxEpisodeSteps: null }, 'env.json').maxEpisodeSteps).toBeNull();
    expect(() => parseEnvConfig('{', 'env.json')).toThrow(/env\.json: not valid JSON/);
  });

  it('rewardPreset perYear uses the market’s bar interval and may not be combined with rewardConfig', () => {
    const c = resolveEnvConfig({ reward: 'risk', rewardPreset: 'perYear' });
    expect(effectiveRewardConfig(c, 1 / 8760)).toEqual(perYearRewardConfig(1 / 8760));
    expect(effectiveRewardConfig(DEFAULT_ENV_CONFIG, 1 / 8760)).toEqual(DEFAULT_REWARD_CONFIG);
    expect(() => parseEnvConfig({ rewardPreset: 'perYear', rewardConfig: { pnlScale: 2 } }, 'env.json')).toThrow(/env\.json: rewardConfig: cannot be combined/);
    // A resolved config handed on (what parseEnvConfig returns) carries the default numbers: accepted.
    expect(resolveEnvConfig(resolveEnvConfig({ rewardPreset: 'perYear' })).rewardPreset).toBe('perYear');
  });
});
