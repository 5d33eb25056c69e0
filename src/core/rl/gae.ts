/**
 * computeGae — Generalised Advantage Estimation (Schulman et al. 2016), the original design's compute_gae (V.5)
 * with the γ and λ its sketch drops, and with truncation handled the way Gymnasium separates it
 * from termination. With done_t = 1 when transition t ended its episode (ruin OR truncation):
 *
 *   δ_t = r_t + γ·(1 − done_t)·V(s_{t+1}) − V(s_t)          V(s_T) = lastValue (after the rollout)
 *   A_t = δ_t + γλ·(1 − done_t)·A_{t+1}
 *   returns_t = A_t + V(s_t)
 *
 * A truncation (end of the data span, maxEpisodeSteps — not ruin) is not a termination: where
 * truncated_t = 1 the TD target bootstraps from V of that episode's true final observation,
 * δ_t = r_t + γ·truncatedValues_t − V(s_t), and A_t still does not carry over into the next
 * episode (s_{t+1} in the buffer is the first observation of the next one after an autoreset).
 *
 * Vectorised rollouts are time-major: index t·N + e is step t of environment e; lastValue then has
 * one entry per environment. Float64 throughout: a 2048-step recursion in float32 loses ~1e-5
 * relative in the far-from-the-end advantages, more than the per-minibatch normalisation hides.
 */
import { InputError } from '../errors.ts';

export interface GaeInput {
  /** r_t, [T·N] time-major. */
  rewards: ArrayLike<number>;
  /** V(s_t) from the rollout, [T·N]. */
  values: ArrayLike<number>;
  /** 1 where transition t ended its episode (terminations and truncations), [T·N]. */
  dones: ArrayLike<number>;
  /** 1 where the end was a truncation (subset of dones), [T·N]; absent = no truncations. */
  truncated?: ArrayLike<number>;
  /** V(final observation) where truncated is 1 (other entries ignored), [T·N]. */
  truncatedValues?: ArrayLike<number>;
  /** V(s_T) after the last step: one number, or one per environment [N]. */
  lastValue: number | ArrayLike<number>;
  gamma: number;
  lam: number;
  /** Environments interleaved in the arrays (default 1). */
  numEnvs?: number;
}

export interface GaeResult {
  advantages: Float64Array;
  returns: Float64Array;
}

function checkFinite(a: ArrayLike<number>, name: string, where: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) throw new InputError(`element ${i} is not a finite number (${a[i]})`, `${where}: ${name}`);
  }
}

/** Advantages and returns; InputError (naming `where` and the field) on mismatched or non-finite input. */
export function computeGae(input: GaeInput, where = 'gae'): GaeResult {
  const { rewards, values, dones, gamma, lam } = input;
  const n = input.numEnvs ?? 1;
  const len = rewards.length;
  if (!Number.isInteger(n) || n < 1) throw new InputError(`must be a positive integer, got ${n}`, `${where}: numEnvs`);
  if (len % n !== 0) throw new InputError(`length ${len} is not a multiple of numEnvs ${n}`, `${where}: rewards`);
  for (const [name, a] of [['values', values], ['dones', dones], ['truncated', input.truncated], ['truncated_values', input.truncatedValues]] as const) {
    if (a !== undefined && a.length !== len) throw new InputError(`length ${a.length} differs from rewards (${len})`, `${where}: ${name}`);
  }
  if (!(gamma >= 0 && gamma <= 1)) throw new InputError(`must be in [0, 1], got ${gamma}`, `${where}: gamma`);
  if (!(lam >= 0 && lam <= 1)) throw new InputError(`must be in [0, 1], got ${lam}`, `${where}: lam`);
  checkFinite(rewards, 'rewards', where);
  checkFinite(values, 'values', where);
  const last = typeof input.lastValue === 'number' ? new Array<number>(n).fill(input.lastValue) : Array.from(input.lastValue);
  if (last.length !== n) throw new InputError(`has ${last.length} entries, expected one per environment (${n})`, `${where}: last_value`);
  checkFinite(last, 'last_value', where);
  const trunc = input.truncated;
  const truncVals = input.truncatedValues;
  for (let i = 0; i < len; i++) {
    const d = dones[i]!;
    if (d !== 0 && d !== 1) throw new InputError(`element ${i} must be 0 or 1, got ${d}`, `${where}: dones`);
    if (trunc && trunc[i] !== 0) {
      if (trunc[i] !== 1) throw new InputError(`element ${i} must be 0 or 1, got ${trunc[i]}`, `${where}: truncated`);
      if (d !== 1) throw new InputError(`element ${i} is truncated but dones is 0 (a truncation ends the episode)`, `${where}: truncated`);
      if (!truncVals) throw new InputError('required where truncated has a 1', `${where}: truncated_values`);
      if (!Number.isFinite(truncVals[i]!)) throw new InputError(`element ${i} is not a finite number (${truncVals[i]})`, `${where}: truncated_values`);
    }
  }

  const adv = new Float64Array(len);
  const ret = new Float64Array(len);
  const steps = len / n;
  for (let e = 0; e < n; e++) {
    let nextValue = last[e]!;
    let nextAdv = 0;
    for (let t = steps - 1; t >= 0; t--) {
      const i = t * n + e;
      const notDone = 1 - dones[i]!;
      // Truncated: the episode's own continuation value; terminated: none; otherwise V(s_{t+1}).
      const boot = trunc && trunc[i] === 1 ? truncVals![i]! : notDone * nextValue;
      const delta = rewards[i]! + gamma * boot - values[i]!;
      nextAdv = delta + gamma * lam * notDone * nextAdv;
      adv[i] = nextAdv;
      ret[i] = nextAdv + values[i]!;
      nextValue = values[i]!;
    }
  }
  return { advantages: adv, returns: ret };
}
