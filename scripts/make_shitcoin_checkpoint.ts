/**
 * Rebuilds public/checkpoints/shitcoin-pseudo-heston.hlckpt, the inverse network the
 * ShitcoinFeatureModule runs on its pseudo-surfaces (src/core/features/shitcoin.ts), entirely
 * through the CLI with fixed seeds:
 *   1. synth: N (20 000) true-Heston surfaces on the pseudo-surface grid (seed 1), 1 000 held out (seed 777);
 *   2. inverse train: seed 1, EPOCHS (20) epochs, wasm backend;
 *   3. inverse eval on the held-out set with --save-metrics.
 * The grid is SHITCOIN_PSEUDO_GRID: k = ln(K/F) ∈ {−0.06, −0.03, 0, 0.03, 0.06} and horizons of
 * 4, 12, 24 and 48 hourly bars (T in years) — what an hourly shitcoin's empirical return
 * distribution can price: at 90 % annual vol a 4-hour return has σ√T ≈ 1.9 %, so ±6 % is ~3 sd.
 * The prior is a shitcoin's, not the seed's BTC box: θ, v0 ∈ [0.1, 4] (vol 32–200 %), σ ∈ [0.3, 5],
 * κ ∈ [0.5, 10] (barely identifiable at horizons of hours: κT ≤ 0.05), ρ ∈ [−0.8, 0.8] (pumps skew up).
 * Run: nice -n 10 npx tsx scripts/make_shitcoin_checkpoint.ts [--n N] [--epochs E] [--work DIR]  (~3 minutes on 2 cores)
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labCli } from './labCli.ts';
import { SHITCOIN_PSEUDO_GRID, SHITCOIN_PRIOR } from '../src/core/features/pseudoSurface.ts';

const { values } = parseArgs({ options: { n: { type: 'string' }, epochs: { type: 'string' }, work: { type: 'string' } }, strict: true });
const N = values.n ?? '20000';
const EPOCHS = values.epochs ?? '20';
const work = values.work ?? '.lab-store/shitcoin-checkpoint';
mkdirSync(work, { recursive: true });
const grid = join(work, 'grid.json');
const prior = join(work, 'prior.json');
writeFileSync(grid, JSON.stringify({ k_grid: SHITCOIN_PSEUDO_GRID.kGrid, t_grid: SHITCOIN_PSEUDO_GRID.tGrid }));
writeFileSync(prior, JSON.stringify(SHITCOIN_PRIOR));
const train = join(work, `pseudo_train_${N}_seed1.npz`);
const test = join(work, 'pseudo_test_1k_seed777.npz');
const ckpt = join(work, `shitcoin-pseudo-heston_${N}x${EPOCHS}.hlckpt`);

if (!existsSync(train)) labCli('synth', '--kind', 'heston', '--n', N, '--seed', '1', '--grid', grid, '--prior', prior, '--out', train);
if (!existsSync(test)) labCli('synth', '--kind', 'heston', '--n', '1000', '--seed', '777', '--grid', grid, '--prior', prior, '--out', test);
if (!existsSync(ckpt)) process.stdout.write(labCli('inverse', 'train', '--data', train, '--seed', '1', '--epochs', EPOCHS, '--name', 'shitcoin pseudo-surface true-Heston (bundled)', '--out', ckpt));
process.stdout.write(labCli('inverse', 'eval', '--ckpt', ckpt, '--data', test, '--surface-n', '200', '--save-metrics'));
mkdirSync('public/checkpoints', { recursive: true });
copyFileSync(ckpt, 'public/checkpoints/shitcoin-pseudo-heston.hlckpt');
process.stderr.write('wrote public/checkpoints/shitcoin-pseudo-heston.hlckpt\n');
