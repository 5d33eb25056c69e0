/**
 * A Heston market (beyond the seed, whose décor surface has "aucun lien avec la dynamique simulée
 * de S"): spot S and variance v follow Heston, and each step's IV surface is the Float64 Heston
 * surface (src/core/heston/surface.ts, Lewis + control variate, ~4e-14·S) at (κ, θ, σ, ρ, v_t) on
 * the grid, so what the surface says about vol is what the next returns will show.
 *
 *   dS/S = μ_t dt + √v dW_S,   dv = κ(θ − v)dt + σ√v dW_v,   d⟨W_S, W_v⟩ = ρ dt,   μ_t = μ₀ + λ·v_t
 *
 * Scheme: Andersen's (2008) QE for v (quadratic branch for ψ = s²/m² ≤ 1.5, exponential branch with
 * a mass at 0 above), which matches the exact conditional mean m and variance s² of v_{t+Δ} at any
 * step size and keeps v ≥ 0 — tests/unit/market/hestonMarket.test.ts checks both moments at the
 * hourly and daily steps used here. ln S follows Andersen's eq. (33) with γ₁ = γ₂ = ½ (trapezoidal
 * ∫v), plus μ_t·Δ; its conditional variance (1 − ρ²)·v̄Δ plus the ρ-term reproduces E[r²] = E[v̄]Δ,
 * which the test checks on 20 000 steps. Without Andersen's martingale correction E[S_{t+Δ}] is off
 * by O(Δ²) — ~1e-9 per hourly step at the defaults, far below anything a policy could use.
 *
 * Regime switching (optional): the (κ, θ, σ, ρ) in force is a Markov chain over `regimes`; each step
 * it moves, with probability `regimeSwitchProb`, to another regime drawn uniformly. With one regime
 * the market is plain Heston and heston_params is [5] (κ, θ, σ, ρ, v0 = initial variance); with
 * several it is [n, 5], row t holding the regime's (κ, θ, σ, ρ) and v_t — exactly the parameters
 * row t's surface is priced at. `HESTON_REGIME_PRESET` is a two-regime market with a
 * variance-linked drift for a policy to find.
 *
 * Defaults: hourly bars, 10 000 steps, S₀ 40 000, κ 3, θ 0.05, σ 0.6, ρ −0.5, v₀ 0.05 (22 % vol) —
 * inside the seed prior the bundled inverse network was trained on (θ, v₀ ∈ [0.01, 0.08], σ ∈ [0.1,
 * 1], ρ ∈ [−0.95, 0.2]), so its surfaces are in-distribution; μ₀ = λ = 0. Funding, OI and volumes
 * as simulator.ts; BTC volume scales with √(v_t/θ) so busy markets are volatile ones. A shitcoin
 * (β·BTC return + idiosyncratic GBM) is included unless `shitcoin` is false. Surfaces are priced on
 * every `surfaceEvery`-th step (default 1: every step); other steps have has_surface 0, as real
 * snapshots arrive less often than bars.
 */
import { defaultsOf, resolveConfig, type ConfigSpec } from '../config.ts';
import { InputError } from '../errors.ts';
import { throttledProgress, throwIfAborted, yieldToEventLoop, type JobContext } from '../jobs.ts';
import { Rng } from '../math/rng.ts';
import { hestonIvSurface } from '../heston/surface.ts';
import { checkMarketData, type MarketData } from './marketData.ts';
import { barTimes, fundingSeries, logNormalSeries, MARKET_SERIES_SPEC, noisyFutures, SIM_STREAM, type MarketSeriesConfig } from './simulator.ts';

export interface HestonRegime {
  kappa: number;
  theta: number;
  sigma: number;
  rho: number;
}

/** Funding, OI, volume (level at v = θ of regime 0) and grid fields are MARKET_SERIES_SPEC's. */
export interface HestonMarketConfig extends MarketSeriesConfig {
  /** Rows of the market. */
  nSteps: number;
  /** Seed of every stream. */
  seed: number;
  /** Bar interval in years (default hourly, 1/8760). */
  dtYears: number;
  /** Close time of row 0, ms UTC (default 2024-01-01T01:00Z). */
  startMs: number;
  /** Initial spot (default 40 000). */
  s0: number;
  /** Initial variance (default 0.05). */
  v0: number;
  /** (κ, θ, σ, ρ) per regime; the chain starts in regime 0 (default one regime: 3, 0.05, 0.6, −0.5). */
  regimes: HestonRegime[];
  /** Per-step probability of leaving the current regime (default 0). */
  regimeSwitchProb: number;
  /** Drift μ₀ per year (default 0). */
  mu0: number;
  /** Variance-linked drift: μ_t = μ₀ + λ·v_t (default 0). */
  lambda: number;
  /** Price a surface on every N-th step (default 1). */
  surfaceEvery: number;
  /** Floor on the variance a surface is priced at (default 1e-6: QE may return v = 0 exactly). */
  surfaceVarianceFloor: number;
  /** Futures noise: F = S·(1 + futNoise·Z) (default 0.0005). */
  futNoise: number;
  /** Include a shitcoin (shit_prices, shit_volumes, shit_funding; default true). */
  shitcoin: boolean;
  /** Shitcoin: initial price, beta to BTC's log return, idiosyncratic vol per year (default 0.1, 1.5, 0.8). */
  shitS0: number;
  shitBeta: number;
  shitIdioVol: number;
}

/** Every field but `regimes` (a list of objects, parsed by parseHestonMarketConfig). */
export const HESTON_MARKET_CONFIG_SPEC: ConfigSpec<Omit<HestonMarketConfig, 'regimes'>> = {
  ...MARKET_SERIES_SPEC,
  nSteps: { default: 10_000, integer: true, min: 2, doc: 'rows of the market', unit: 'steps' },
  seed: { default: 1, integer: true, doc: 'seed of every stream' },
  dtYears: { default: 1 / 8760, min: 1e-9, doc: 'bar interval (hourly)', unit: 'years' },
  startMs: { default: Date.UTC(2024, 0, 1, 1), doc: 'close time of row 0 (2024-01-01T01:00Z)', unit: 'ms UTC' },
  s0: { default: 40_000, min: 1e-12, doc: 'initial spot' },
  v0: { default: 0.05, min: 0, doc: 'initial variance (22 % vol)' },
  regimeSwitchProb: { default: 0, min: 0, max: 1, doc: 'per-step probability of leaving the current regime' },
  mu0: { default: 0, doc: 'drift μ₀ (μ_t = μ₀ + λ·v_t)', unit: 'per year' },
  lambda: { default: 0, doc: 'variance-linked drift λ (μ_t = μ₀ + λ·v_t)' },
  surfaceEvery: { default: 1, integer: true, min: 1, doc: 'price a surface on every N-th step (others: has_surface 0)', unit: 'steps' },
  surfaceVarianceFloor: { default: 1e-6, min: 1e-12, doc: 'floor on the variance a surface is priced at (QE may return v = 0)' },
  futNoise: { default: 0.0005, min: 0, doc: 'futures noise: F = S·(1 + futNoise·Z)' },
  shitcoin: { default: true, doc: 'include a shitcoin (shit_prices, shit_volumes, shit_funding)' },
  shitS0: { default: 0.1, min: 1e-12, doc: 'shitcoin initial price' },
  shitBeta: { default: 1.5, doc: 'shitcoin beta to BTC’s log return' },
  shitIdioVol: { default: 0.8, min: 0, doc: 'shitcoin idiosyncratic vol', unit: 'per √year' },
};

export const DEFAULT_HESTON_MARKET_CONFIG: HestonMarketConfig = {
  ...defaultsOf(HESTON_MARKET_CONFIG_SPEC),
  regimes: [{ kappa: 3, theta: 0.05, sigma: 0.6, rho: -0.5 }],
};

/**
 * A HestonMarketConfig from JSON (a --config file): `regimes` is a list of {kappa, theta, sigma,
 * rho}; every other key as HESTON_MARKET_CONFIG_SPEC; unknown keys are an InputError naming `where`.
 */
export function parseHestonMarketConfig(json: unknown, where: string): HestonMarketConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new InputError('must be a JSON object', where);
  const { regimes, ...rest } = json as Record<string, unknown>;
  const out: HestonMarketConfig = { ...resolveConfig(HESTON_MARKET_CONFIG_SPEC, rest, where), regimes: DEFAULT_HESTON_MARKET_CONFIG.regimes.map((r) => ({ ...r })) };
  if (regimes !== undefined) {
    if (!Array.isArray(regimes) || regimes.length === 0) throw new InputError('must be a non-empty list of {kappa, theta, sigma, rho}', `${where}: regimes`);
    out.regimes = regimes.map((r, i) => {
      const at = `${where}: regimes[${i}]`;
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new InputError('must be an object {kappa, theta, sigma, rho}', at);
      const keys = Object.keys(r);
      const extra = keys.filter((k) => !['kappa', 'theta', 'sigma', 'rho'].includes(k));
      if (extra.length) throw new InputError(`unknown key "${extra[0]}" (known: kappa, theta, sigma, rho)`, at);
      const get = (k: string) => {
        const v = (r as Record<string, unknown>)[k];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`must be a number, got ${JSON.stringify(v)}`, `${at}.${k}`);
        return v;
      };
      return { kappa: get('kappa'), theta: get('theta'), sigma: get('sigma'), rho: get('rho') };
    });
  }
  validate(out);
  return out;
}

/**
 * Two regimes — calm (θ 0.02: 14 % vol, mild skew) and stressed (θ 0.08: 28 %, σ 0.9, ρ −0.7) —
 * switching every ~500 hours on average, with μ_t = −0.3 + 6·v_t per year: calm drifts at −0.18/yr,
 * stressed at +0.18/yr, so the sign of the drift is readable from the surface.
 */
export const HESTON_REGIME_PRESET: Partial<HestonMarketConfig> = {
  regimes: [
    { kappa: 4, theta: 0.02, sigma: 0.4, rho: -0.3 },
    { kappa: 4, theta: 0.08, sigma: 0.9, rho: -0.7 },
  ],
  regimeSwitchProb: 1 / 500,
  v0: 0.02,
  mu0: -0.3,
  lambda: 6,
};

/** Andersen's switching threshold between the quadratic and exponential branches. */
const PSI_C = 1.5;

/**
 * One QE step of the variance: v_{t+Δ} given v_t, with the exact conditional mean m and variance s².
 * Draws one normal (quadratic branch) or one uniform (exponential branch) from rng.
 */
export function qeVarianceStep(v: number, p: { kappa: number; theta: number; sigma: number }, dt: number, rng: Rng): number {
  const e = Math.exp(-p.kappa * dt);
  const m = p.theta + (v - p.theta) * e;
  const s2 = (v * p.sigma * p.sigma * e * (1 - e)) / p.kappa + (p.theta * p.sigma * p.sigma * (1 - e) * (1 - e)) / (2 * p.kappa);
  const psi = s2 / (m * m);
  if (psi <= PSI_C) {
    const inv = 2 / psi;
    const b2 = inv - 1 + Math.sqrt(inv) * Math.sqrt(inv - 1);
    const a = m / (1 + b2);
    const z = Math.sqrt(b2) + rng.normal();
    return a * z * z;
  }
  const pm = (psi - 1) / (psi + 1);
  const beta = (1 - pm) / m;
  const u = rng.uniform();
  return u <= pm ? 0 : Math.log((1 - pm) / (1 - u)) / beta;
}

/** The regimes' constraints (every other field is checked by HESTON_MARKET_CONFIG_SPEC). */
function validate(c: HestonMarketConfig): void {
  const bad = (field: string, why: string) => {
    throw new InputError(why, `HestonMarketConfig: ${field}`);
  };
  if (!Array.isArray(c.regimes) || c.regimes.length === 0) bad('regimes', 'needs at least one regime');
  c.regimes.forEach((r, i) => {
    if (!(r.kappa > 0)) bad(`regimes[${i}].kappa`, `must be > 0, got ${r.kappa}`);
    if (!(r.theta > 0)) bad(`regimes[${i}].theta`, `must be > 0, got ${r.theta}`);
    if (!(r.sigma > 0)) bad(`regimes[${i}].sigma`, `must be > 0 (the QE log-price step divides by σ), got ${r.sigma}`);
    if (!(r.rho > -1 && r.rho < 1)) bad(`regimes[${i}].rho`, `must be in (−1, 1), got ${r.rho}`);
  });
}

/** The Heston market as MarketData, with its ground truth (btc_variance, heston_params, regime). */
export async function simulateHestonMarket(config: Partial<HestonMarketConfig> = {}, seed?: number, ctx: JobContext = {}): Promise<MarketData> {
  const { regimes, ...rest } = config;
  const c: HestonMarketConfig = { ...resolveConfig(HESTON_MARKET_CONFIG_SPEC, { ...rest, ...(seed !== undefined ? { seed } : {}) }, 'HestonMarketConfig'), regimes: regimes ?? DEFAULT_HESTON_MARKET_CONFIG.regimes };
  validate(c);
  const n = c.nSteps;
  const dt = c.dtYears;
  const rngS = Rng.stream(c.seed, SIM_STREAM.btc);
  const rngV = Rng.stream(c.seed, SIM_STREAM.variance);
  const rngR = Rng.stream(c.seed, SIM_STREAM.regime);
  const R = c.regimes.length;
  const regime = new Int32Array(n);
  const v = new Float64Array(n);
  const s = new Float64Array(n);
  let r = 0;
  let vt = c.v0;
  let lnS = Math.log(c.s0);
  for (let t = 0; t < n; t++) {
    regime[t] = r;
    v[t] = vt;
    s[t] = t === 0 ? c.s0 : Math.exp(lnS); // exp(log 40 000) is 39 999.99999999997: start at s0 itself
    if (t === n - 1) break;
    const p = c.regimes[r]!;
    const vn = qeVarianceStep(vt, p, dt, rngV);
    const k = (p.kappa * p.rho) / p.sigma - 0.5;
    const mu = c.mu0 + c.lambda * vt;
    const drift = mu * dt - (p.rho * p.kappa * p.theta * dt) / p.sigma + (0.5 * dt * k - p.rho / p.sigma) * vt + (0.5 * dt * k + p.rho / p.sigma) * vn;
    const varPart = 0.5 * dt * (1 - p.rho * p.rho) * (vt + vn);
    lnS += drift + Math.sqrt(varPart) * rngS.normal();
    vt = vn;
    if (R > 1 && rngR.uniform() < c.regimeSwitchProb) {
      const j = rngR.int(R - 1);
      r = j >= r ? j + 1 : j;
    }
  }

  const nk = c.kGrid.length;
  const nt = c.tGrid.length;
  const cells = nk * nt;
  const iv = new Float64Array(n * cells).fill(NaN);
  const mask = new Uint8Array(n * cells).fill(1);
  const hasSurface = new Uint8Array(n);
  const priced = new Float64Array(n);
  const perStep = R > 1;
  const params = new Float64Array(perStep ? n * 5 : 5);
  if (!perStep) params.set([c.regimes[0]!.kappa, c.regimes[0]!.theta, c.regimes[0]!.sigma, c.regimes[0]!.rho, c.v0]);
  const progress = throttledProgress(ctx);
  for (let t = 0; t < n; t++) {
    const p = c.regimes[regime[t]!]!;
    priced[t] = Math.max(v[t]!, c.surfaceVarianceFloor);
    if (perStep) params.set([p.kappa, p.theta, p.sigma, p.rho, priced[t]!], t * 5);
    if (t % c.surfaceEvery === 0) {
      const surf = hestonIvSurface({ ...p, v0: priced[t]! }, c.kGrid, c.tGrid);
      iv.set(surf.iv, t * cells);
      mask.set(surf.mask, t * cells);
      hasSurface[t] = 1;
    }
    // ~0.5 ms per surface: 64 between yields keeps a cancel within ~30–50 ms.
    if (t % 64 === 63) {
      progress({ done: t + 1, total: n, message: `priced ${t + 1}/${n} surfaces` });
      await yieldToEventLoop();
      throwIfAborted(ctx.signal);
    }
  }
  progress({ done: n, total: n, message: `priced ${n} surfaces` });

  const theta0 = c.regimes[0]!.theta;
  const volNoise = logNormalSeries(n, c.volumeLevel, c.volumeLogStd, Rng.stream(c.seed, SIM_STREAM.btcVolumes));
  const m: MarketData = {
    name: `sim-heston-seed${c.seed}`,
    timesMs: barTimes(n, c.startMs, dt),
    dtYears: dt,
    btcPrices: s,
    btcFutPrices: noisyFutures(s, c.futNoise, Rng.stream(c.seed, SIM_STREAM.fut)),
    btcFunding: fundingSeries(n, c.fundingEvery, c.fundingMean, c.fundingStd, Rng.stream(c.seed, SIM_STREAM.btcFunding)),
    btcOi: logNormalSeries(n, c.oiLevel, c.oiLogStd, Rng.stream(c.seed, SIM_STREAM.oi)),
    kGrid: Float64Array.from(c.kGrid),
    tGrid: Float64Array.from(c.tGrid),
    btcIvSurface: iv,
    btcIvMask: mask,
    hasSurface,
    btcVolumes: Float64Array.from(volNoise, (x, t) => x * Math.sqrt(v[t]! / theta0)),
    truth: { btcVariance: priced, hestonParams: params, hestonParamsPerStep: perStep, ...(R > 1 ? { regime } : {}) },
  };
  if (c.shitcoin) {
    const rng = Rng.stream(c.seed, SIM_STREAM.shit);
    const sp = new Float64Array(n);
    let x = c.shitS0;
    const idio = c.shitIdioVol;
    for (let t = 0; t < n; t++) {
      sp[t] = x;
      if (t < n - 1) x *= Math.exp(c.shitBeta * Math.log(s[t + 1]! / s[t]!) - 0.5 * idio * idio * dt + idio * Math.sqrt(dt) * rng.normal());
    }
    m.shitPrices = sp;
    m.shitVolumes = logNormalSeries(n, c.volumeLevel, c.volumeLogStd, Rng.stream(c.seed, SIM_STREAM.shitVolumes));
    m.shitFunding = fundingSeries(n, c.fundingEvery, c.fundingMean, c.fundingStd, Rng.stream(c.seed, SIM_STREAM.shitFunding));
  }
  checkMarketData(m, m.name);
  return m;
}
