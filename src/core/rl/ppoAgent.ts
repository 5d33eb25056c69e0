/**
 * PPOAgent — the original design's actor-critic (V.1–V.4): a Gaussian policy whose mean comes from a policy
 * MLP and whose log σ is one learned, state-independent parameter, beside a separate value MLP.
 *
 *   μ(s) = MLP_π(s)   a ~ N(μ, σ²), σ = exp(logStd)   V(s) = MLP_v(s)   (hidden: seed 2 × 64 tanh)
 *   log π(a|s) = Σ −½((a − μ)/σ)² − logσ − ½log 2π      entropy = Σ ½ + ½log 2π + logσ
 *
 * The environment clips the sampled action to [−1, 1]; the log-prob is that of the UNclipped
 * sample, as CleanRL (ClipAction wrapper) does, so the ratio in the update stays exact.
 *
 * Init. Default 'torch' — PyTorch's nn.Linear default, weights AND biases U(±1/√fan_in), what the
 * original design's PyTorch MLP gets. Option 'orthogonal' — CleanRL's layer_init: orthogonal weights with gain
 * √2 on hidden layers, 0.01 on the policy head, 1 on the value head, zero biases. Not tfjs's default
 * (Glorot-uniform weights): measured with a reference PPO on regime markets, it starts the mean far
 * outside [−1, 1] for 16 × D inputs, every sampled action clips to one bound, and some seeds lock into
 * the wrong sign. 'torch' stays the default because it is the original design's behaviour; both start |μ| well
 * inside [−1, 1] (test). Every draw comes from Rng.stream(seed, AGENT_STREAM.init + layer): the
 * integer path is bit-identical across JS engines, so the same seed gives the same 'torch' weights
 * in Node and in the browser ('orthogonal' goes through log/cos and may differ by an ulp before
 * rounding to float32).
 *
 * Two forwards. `forward` (tfjs, differentiable, on the active backend) for the update; `act` a
 * CPU forward batched over the N environments for rollouts, in float32 (the weights' own precision,
 * and what tfjs and the original design's PyTorch compute in) on math/simdGemm's f32x4 kernel and
 * math/simdTanh's four-lane tanh, with the weights, inputs and activations in one wasm workspace:
 * at batch 8 and 2 × 64 the tfjs path is dispatch-bound (~20 kernels per call on wasm, each a few
 * µs of overhead, more than the ~30k multiply-adds themselves), and on webgpu every act would stall
 * on a readback. One 8-env act at D = 57 (obs 913), inside a rollout: ~38.5 µs, against ~78 µs with
 * the float32 products and a scalar float64 tanh and ~103 µs with float64 products (same machine).
 * The scalar tanh also cost more on changing inputs than on repeated ones (~77 against ~61 µs per
 * act cycling 24 input arrays against 2: branch and table effects the vector tanh does not have;
 * 39.0 against 38.4 µs now). A parity test holds `act` to the tfjs forward (~1e-6).
 * `syncFromVariables` refreshes the CPU copy after an update (one awaited read per variable,
 * webgpu-safe).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../math/rng.ts';
import { GemmWorkspace } from '../math/simdGemm.ts';
import type { PpoActivation, PpoInit } from './ppoConfig.ts';

/** Named Rng stream ids (Rng.stream(seed, id)). Layer l of a network draws from init + l (+ 100 for the value net). */
export const AGENT_STREAM = { init: 0x4a00, noise: 0x4b00 } as const;

export interface AgentTopology {
  obsDim: number;
  actDim: number;
  hiddenSizes: number[];
  activation: PpoActivation;
}

export interface ActResult {
  /** Sampled (or, deterministic, mean) actions [n·actDim], before the env's clip. */
  actions: Float32Array;
  /** log π(a|s) of those actions [n] (0 in deterministic mode). */
  logProbs: Float32Array;
  /** V(s) [n]. */
  values: Float32Array;
  /** μ(s) [n·actDim]. */
  means: Float32Array;
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Layer names in a fixed order: pi.w0, pi.b0, …, v.w0, …, logStd (the checkpoint's tensor order). */
export function parameterShapes(t: AgentTopology): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  for (const [net, outDim] of [['pi', t.actDim], ['v', 1]] as const) {
    const sizes = [t.obsDim, ...t.hiddenSizes, outDim];
    for (let l = 0; l + 1 < sizes.length; l++) {
      out.push({ name: `${net}.w${l}`, shape: [sizes[l]!, sizes[l + 1]!] });
      out.push({ name: `${net}.b${l}`, shape: [sizes[l + 1]!] });
    }
  }
  out.push({ name: 'logStd', shape: [t.actDim] });
  return out;
}

/** U(±1/√fan_in) for weights [in, out] and biases, as torch.nn.Linear.reset_parameters. */
function torchLinear(fanIn: number, fanOut: number, rng: Rng): { w: Float32Array; b: Float32Array } {
  const bound = 1 / Math.sqrt(fanIn);
  const w = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < w.length; i++) w[i] = rng.range(-bound, bound);
  const b = new Float32Array(fanOut);
  for (let i = 0; i < fanOut; i++) b[i] = rng.range(-bound, bound);
  return { w, b };
}

/**
 * A [rows, cols] matrix with orthonormal columns (rows ≥ cols) or rows (rows < cols), times gain:
 * Gram–Schmidt (twice, for float64 orthogonality to ~1e-15) on a Gaussian matrix, the column signs
 * fixed as torch.nn.init.orthogonal_ fixes them through diag(R).
 */
export function orthogonalMatrix(rows: number, cols: number, gain: number, rng: Rng): Float32Array {
  const tall = rows >= cols;
  const m = tall ? rows : cols; // vector length
  const k = tall ? cols : rows; // number of orthonormal vectors
  const q: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = new Float64Array(m);
    for (let i = 0; i < m; i++) v[i] = rng.normal();
    const norm0 = Math.hypot(...v);
    let rjj = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        let d = 0;
        for (let i = 0; i < m; i++) d += u[i]! * v[i]!;
        for (let i = 0; i < m; i++) v[i]! -= d * u[i]!;
      }
    }
    rjj = Math.hypot(...v);
    // A (measure-zero) dependent draw: fall back to a basis vector rather than divide by ~0.
    if (rjj < 1e-12 * norm0) {
      v.fill(0);
      v[j % m] = 1;
      rjj = 1;
    }
    for (let i = 0; i < m; i++) v[i]! /= rjj;
    q.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (tall ? q[c]![r]! : q[r]![c]!);
  return out;
}

/** Initial parameter values for a topology and seed (Float32, the checkpoint's order). */
export function initialParameters(t: AgentTopology, init: PpoInit, seed: number, logStdInit: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [netIndex, net, outDim] of [[0, 'pi', t.actDim], [1, 'v', 1]] as const) {
    const sizes = [t.obsDim, ...t.hiddenSizes, outDim];
    const layers = sizes.length - 1;
    for (let l = 0; l < layers; l++) {
      const rng = Rng.stream(seed, AGENT_STREAM.init + 100 * netIndex + l);
      const fanIn = sizes[l]!;
      const fanOut = sizes[l + 1]!;
      if (init === 'torch') {
        const { w, b } = torchLinear(fanIn, fanOut, rng);
        out.set(`${net}.w${l}`, w);
        out.set(`${net}.b${l}`, b);
      } else {
        const head = l === layers - 1;
        const gain = !head ? Math.SQRT2 : net === 'pi' ? 0.01 : 1;
        // torch's weight is [out, in]; its orthogonal rows/columns transpose into our [in, out].
        const wOutIn = orthogonalMatrix(fanOut, fanIn, gain, rng);
        const w = new Float32Array(fanIn * fanOut);
        for (let o = 0; o < fanOut; o++) for (let i = 0; i < fanIn; i++) w[i * fanOut + o] = wOutIn[o * fanIn + i]!;
        out.set(`${net}.w${l}`, w);
        out.set(`${net}.b${l}`, new Float32Array(fanOut));
      }
    }
  }
  out.set('logStd', new Float32Array(t.actDim).fill(logStdInit));
  return out;
}

/** Workspace indices of one layer's W [in, out] and b (float32). */
export interface LayerAt {
  w: number;
  b: number;
}

/**
 * One MLP's float32 forward over n rows in a GemmWorkspace (the agent's rollout forward and the CPU
 * update's, rl/ppo.ts): layer l reads the previous output (`input` first) and writes outs[l],
 * hidden layers through tanh (math/simdTanh) or ReLU in place. Returns the last output's index.
 */
export function mlpForward32(ws: GemmWorkspace, n: number, sizes: readonly number[], input: number, layers: readonly LayerAt[], outs: readonly number[], tanh: boolean): number {
  for (let l = 0; l + 1 < sizes.length; l++) {
    const out = outs[l]!;
    ws.product32(n, sizes[l + 1]!, sizes[l]!, input, layers[l]!.w, out, layers[l]!.b);
    if (l + 2 < sizes.length) {
      if (tanh) ws.tanh32(out, n * sizes[l + 1]!);
      else {
        const h = ws.view32(out, n * sizes[l + 1]!);
        for (let k = 0; k < h.length; k++) h[k] = Math.max(0, h[k]!);
      }
    }
    input = out;
  }
  return input;
}

type CpuNets = { ws: GemmWorkspace; layers: Record<'pi' | 'v', LayerAt[]> };

let nextAgentSerial = 0;

export class PPOAgent {
  readonly topology: AgentTopology;
  /** tf variables by parameter name, in parameterShapes order. */
  readonly vars: Map<string, tf.Variable>;
  private cpu: Map<string, Float32Array>;
  /** The CPU forward's weights and scratch, in one math/simdGemm workspace (built on the first
   *  act; new parameters are written into it): per net and layer the indices of W [in, out] and b. */
  private cpuNets: CpuNets | null = null;
  /** Per batch size: workspace indices of the input and of each layer's output. */
  private scratch = new Map<number, { x: number; pi: number[]; v: number[] }>();
  private readonly piSizes: number[];
  private readonly vSizes: number[];

  constructor(topology: AgentTopology, params: Map<string, Float32Array>) {
    // tfjs variable names are global to the engine: a serial keeps two agents apart.
    const agentSerial = nextAgentSerial++;
    this.topology = { ...topology, hiddenSizes: [...topology.hiddenSizes] };
    this.piSizes = [topology.obsDim, ...topology.hiddenSizes, topology.actDim];
    this.vSizes = [topology.obsDim, ...topology.hiddenSizes, 1];
    this.vars = new Map();
    this.cpu = new Map();
    for (const { name, shape } of parameterShapes(topology)) {
      const data = params.get(name);
      const size = shape.reduce((a, b) => a * b, 1);
      if (!data || data.length !== size) throw new Error(`PPOAgent: parameter ${name} missing or of size ${data?.length}, expected ${size}`);
      this.cpu.set(name, Float32Array.from(data));
      const init = tf.tensor(data, shape);
      this.vars.set(name, tf.variable(init, true, `ppo${agentSerial}_${name}`));
      init.dispose(); // the variable holds its own reference to the data
    }
  }

  /** A freshly initialised agent (see the header for the inits). */
  static create(topology: AgentTopology, opts: { init: PpoInit; seed: number; logStdInit: number }): PPOAgent {
    return new PPOAgent(topology, initialParameters(topology, opts.init, opts.seed, opts.logStdInit));
  }

  get parameterCount(): number {
    let n = 0;
    for (const v of this.cpu.values()) n += v.length;
    return n;
  }

  /** The CPU copy of every parameter (current after syncFromVariables), by name. */
  parameters(): Map<string, Float32Array> {
    return new Map([...this.cpu].map(([k, v]) => [k, Float32Array.from(v)]));
  }

  /** Overwrite every parameter (tf variables and the CPU copy). */
  setParameters(params: Map<string, Float32Array>): void {
    for (const { name, shape } of parameterShapes(this.topology)) {
      const d = params.get(name);
      if (!d || d.length !== this.cpu.get(name)!.length) throw new Error(`PPOAgent.setParameters: ${name} missing or of the wrong size`);
      this.cpu.set(name, Float32Array.from(d));
      tf.tidy(() => this.vars.get(name)!.assign(tf.tensor(d, shape)));
    }
    this.refreshCpuNets();
  }

  /** Refresh the CPU copy from the tf variables (after optimiser steps). */
  async syncFromVariables(): Promise<void> {
    for (const [name, v] of this.vars) this.cpu.set(name, Float32Array.from((await v.data()) as Float32Array));
    this.refreshCpuNets();
  }

  /** New weights into the existing workspace (the shapes never change): no new wasm memory per
   *  training iteration (each one reserves address space until it is collected). */
  private refreshCpuNets(): void {
    if (!this.cpuNets) return;
    const { ws, layers } = this.cpuNets;
    for (const [net, sizes] of [['pi', this.piSizes], ['v', this.vSizes]] as const)
      sizes.slice(1).forEach((_, l) => {
        const [w, b] = [this.cpu.get(`${net}.w${l}`)!, this.cpu.get(`${net}.b${l}`)!];
        ws.view32(layers[net][l]!.w, w.length).set(w);
        ws.view32(layers[net][l]!.b, b.length).set(b);
      });
  }

  private nets(): CpuNets {
    if (this.cpuNets) return this.cpuNets;
    const ws = new GemmWorkspace();
    const put = (x: Float32Array) => {
      const at = ws.alloc32(x.length);
      ws.view32(at, x.length).set(x);
      return at;
    };
    const layersOf = (net: 'pi' | 'v', sizes: number[]) => sizes.slice(1).map((_, l) => ({ w: put(this.cpu.get(`${net}.w${l}`)!), b: put(this.cpu.get(`${net}.b${l}`)!) }));
    this.cpuNets = { ws, layers: { pi: layersOf('pi', this.piSizes), v: layersOf('v', this.vSizes) } };
    this.scratch.clear();
    return this.cpuNets;
  }

  /** Copy n observations into the workspace and run the nets asked for (float32); outputs are fresh arrays. */
  private forwardCpu(obs: Float32Array, n: number, which: ('pi' | 'v')[]): Float32Array[] {
    const { ws, layers } = this.nets();
    let s = this.scratch.get(n);
    if (!s) {
      s = { x: ws.alloc32(n * this.topology.obsDim), pi: this.piSizes.slice(1).map((d) => ws.alloc32(n * d)), v: this.vSizes.slice(1).map((d) => ws.alloc32(n * d)) };
      this.scratch.set(n, s);
    }
    ws.view32(s.x, n * this.topology.obsDim).set(obs);
    const tanh = this.topology.activation === 'tanh';
    return which.map((net) => {
      const sizes = net === 'pi' ? this.piSizes : this.vSizes;
      const last = mlpForward32(ws, n, sizes, s.x, layers[net], s[net], tanh);
      return ws.view32(last, n * sizes.at(-1)!).slice();
    });
  }

  /**
   * Batched CPU action for n observations [n·obsDim]: a = μ + σ·ε with ε from `rng` (normal draws
   * in env order), or μ when deterministic. Returned arrays are fresh (the caller may keep them).
   */
  act(obs: Float32Array, n: number, opts: { deterministic?: boolean; rng?: Rng } = {}): ActResult {
    const { obsDim, actDim } = this.topology;
    if (obs.length !== n * obsDim) throw new Error(`PPOAgent.act: obs has ${obs.length} values, expected ${n} × ${obsDim}`);
    const [means, values] = this.forwardCpu(obs, n, ['pi', 'v']) as [Float32Array, Float32Array];
    const logStd = this.cpu.get('logStd')!;
    const actions = new Float32Array(n * actDim);
    const logProbs = new Float32Array(n);
    if (opts.deterministic || !opts.rng) {
      if (!opts.deterministic) throw new Error('PPOAgent.act: a stochastic action needs an rng');
      actions.set(means);
      return { actions, logProbs, values, means };
    }
    for (let r = 0; r < n; r++) {
      let lp = 0;
      for (let k = 0; k < actDim; k++) {
        const ls = logStd[k]!;
        const eps = opts.rng.normal();
        const a = Math.fround(means[r * actDim + k]! + Math.exp(ls) * eps);
        actions[r * actDim + k] = a;
        const z = (a - means[r * actDim + k]!) / Math.exp(ls);
        lp += -0.5 * z * z - ls - HALF_LOG_2PI;
      }
      logProbs[r] = lp;
    }
    return { actions, logProbs, values, means };
  }

  /** V(s) only (the bootstrap after a rollout, truncated episodes' final observations). */
  value(obs: Float32Array, n: number): Float32Array {
    if (obs.length !== n * this.topology.obsDim) throw new Error(`PPOAgent.value: obs has ${obs.length} values, expected ${n} × ${this.topology.obsDim}`);
    return this.forwardCpu(obs, n, ['v'])[0]!;
  }

  private netTf(net: 'pi' | 'v', x: tf.Tensor2D): tf.Tensor2D {
    const layers = (net === 'pi' ? this.piSizes : this.vSizes).length - 1;
    let h: tf.Tensor2D = x;
    for (let l = 0; l < layers; l++) {
      h = tf.add(tf.matMul(h, this.vars.get(`${net}.w${l}`) as tf.Tensor2D), this.vars.get(`${net}.b${l}`)!) as tf.Tensor2D;
      if (l + 1 < layers) h = this.topology.activation === 'tanh' ? tf.tanh(h) : tf.relu(h);
    }
    return h;
  }

  /** Differentiable forward (tfjs, active backend): μ [B, actDim] and V [B]. Call inside tidy / variableGrads. */
  forward(obs: tf.Tensor2D): { mean: tf.Tensor2D; value: tf.Tensor1D } {
    return { mean: this.netTf('pi', obs), value: this.netTf('v', obs).reshape([-1]) as tf.Tensor1D };
  }

  /** log π(a|s) [B] for actions [B, actDim] under means [B, actDim]. */
  logProb(mean: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
    const logStd = this.vars.get('logStd')!;
    const z = tf.div(tf.sub(actions, mean), tf.exp(logStd));
    return tf.sum(tf.sub(tf.mul(tf.square(z), -0.5), tf.add(logStd, HALF_LOG_2PI)), 1) as tf.Tensor1D;
  }

  /** Entropy of the (state-independent) Gaussian, summed over action dims: a scalar. */
  entropy(): tf.Scalar {
    return tf.sum(tf.add(this.vars.get('logStd')!, 0.5 + HALF_LOG_2PI)) as tf.Scalar;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
