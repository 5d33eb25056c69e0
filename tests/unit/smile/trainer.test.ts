import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { trainSmile, SMILE_TRAIN_SPEC, DEFAULT_SMILE_TRAIN_CONFIG } from '../../../src/core/smile/trainer.ts';
import { buildModel, SMILE_MODEL_KINDS } from '../../../src/core/smile/models/registry.ts';
import { MultiHeadSelfAttention, layerFromConfig } from '../../../src/core/smile/models/attention.ts';
import { decodeSmileCheckpoint, encodeSmileCheckpoint, netFromCheckpoint, readWeights } from '../../../src/core/smile/checkpoint.ts';
import { predictScaled } from '../../../src/core/smile/evaluate.ts';
import { openStoreTracker } from '../../../src/core/tracking/tracker.ts';
import { MemoryStore } from '../../../src/core/store/store.ts';
import { CancelledError } from '../../../src/core/jobs.ts';
import { InputError } from '../../../src/core/errors.ts';
import { resolveConfig } from '../../../src/core/config.ts';
import { SESSION, SMALL, quoteSet, useWasm } from './fixtures.ts';

const inputs = { quotes: quoteSet(0.5).slice(0, 6 * 600), session: SESSION, ivUnit: 'decimal' as const };
const tiny = { ...SMALL.mlp, epochs: 2 };

describe('smile models and trainer', () => {
  beforeAll(useWasm);

  it('seeded init: the same seed gives the same weights, another seed others (every model)', async () => {
    for (const kind of SMILE_MODEL_KINDS) {
      const cfg = { kind, seqLength: 5, nInputs: 8, hidden: 8, layers: 1, heads: 2, ffDim: 8 };
      const [a, b, c] = [buildModel(cfg, 11), buildModel(cfg, 11), buildModel(cfg, 12)];
      const [wa, wb, wc] = [await readWeights(a), await readWeights(b), await readWeights(c)];
      expect([...wa.keys()]).toEqual([...wb.keys()]);
      for (const [k, w] of wa) expect(w.data).toEqual(wb.get(k)!.data);
      const first = [...wa.keys()][0]!;
      expect(wc.get(first)!.data).not.toEqual(wa.get(first)!.data);
      [a, b, c].forEach((n) => n.dispose());
    }
  });

  it('is reproducible: the same config and data give the same losses and checkpoint weights', async () => {
    const a = await trainSmile(tiny, inputs);
    const b = await trainSmile(tiny, inputs);
    expect(a.history.map((h) => h.epochLoss)).toEqual(b.history.map((h) => h.epochLoss));
    expect(a.checkpoint.weights.get('mlp.w1')!.data).toEqual(b.checkpoint.weights.get('mlp.w1')!.data);
    expect(a.test).toEqual(b.test);
  });

  it('the config spec refuses unknown keys and bad values, naming them', () => {
    expect(() => resolveConfig(SMILE_TRAIN_SPEC, { seq_length: 5 }, 'cfg')).toThrow(/unknown key "seq_length"/);
    expect(() => resolveConfig(SMILE_TRAIN_SPEC, { model: 'rnn' }, 'cfg')).toThrow(/cfg: model: must be one of gru, lstm, mlp, transformer/);
    expect(DEFAULT_SMILE_TRAIN_CONFIG.seqLength).toBe(20);
    expect(DEFAULT_SMILE_TRAIN_CONFIG.lr).toBe(1e-3);
  });

  it('cancels between batches: CancelledError before the epoch completes', async () => {
    const ctl = new AbortController();
    let epochsDone = 0;
    await expect(
      trainSmile({ ...SMALL.gru, epochs: 3 }, inputs, {}, {
        signal: ctl.signal,
        onProgress: (p) => {
          if (p.metrics?.epochDone) epochsDone++;
          else ctl.abort(); // the first batch report
        },
      }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(epochsDone).toBe(0);
    expect(tf.memory().numTensors).toBeLessThan(40); // the model and the optimiser were freed
  });

  it("logs the seed's params and metrics and the checkpoint artifact to a tracking run", async () => {
    const tracker = await openStoreTracker(new MemoryStore(), { heartbeat: false });
    const run = await tracker.startRun({ experiment: 'smile', name: 'mlp' });
    const reports: { etaMs?: number; metrics?: { epochDone?: number } }[] = [];
    const r = await trainSmile(tiny, inputs, { run }, { onProgress: (p) => void reports.push(p) });
    await run.end();
    // The page's "time left": every report after the first carries it, 0 at the end.
    expect(reports.length).toBeGreaterThan(1);
    expect(reports[0]!.etaMs).toBeUndefined();
    for (const p of reports.slice(1)) expect(p.etaMs).toBeGreaterThanOrEqual(0);
    expect(reports.at(-1)!.etaMs).toBe(0);
    const rec = await tracker.getRecord(run.runId);
    expect(rec.params).toMatchObject({ lr: '0.003', seq_length: '8', epochs: '2', batch_size: '128', model: 'mlp', target: 'change', session_tz: 'UTC', iv_unit: 'decimal' });
    expect(rec.metrics.epoch_loss!.map((p) => p.step)).toEqual([1, 2]);
    expect(rec.metrics.val_loss).toHaveLength(2);
    expect(rec.metrics.final_loss![0]!.value).toBeCloseTo(r.history[1]!.epochLoss, 10);
    expect(rec.metrics.skill![0]!.value).toBeCloseTo(r.test.skill!, 10);
    const art = rec.artifacts.find((a) => a.path === 'checkpoints/mlp.hlckpt')!;
    expect(art.bytes).toEqual(r.bytes);
    const ck = await decodeSmileCheckpoint(art.bytes, 'mlp.hlckpt');
    expect(ck.session).toEqual(SESSION);
    expect(ck.ivUnit).toBe('decimal');
    expect(ck.scaler.names).toEqual(['log_moneyness', 'dte', 'hour_sin', 'hour_cos', 'minutes_since_open', 'spot_price', 'right_enc', 'iv']);
    tracker.close();
  });

  it('the Transformer (custom attention layer) round-trips through its checkpoint with identical outputs', async () => {
    const r = await trainSmile({ ...SMALL.transformer, epochs: 1 }, inputs);
    const ck = await decodeSmileCheckpoint(r.bytes, 't.hlckpt');
    expect(ck.attention![0]!.className).toBe('MultiHeadSelfAttention');
    const x = tf.randomNormal([33, 8, 8], 0, 1, 'float32', 5);
    const set = { n: 33, x: (await x.data()) as Float32Array, seqLength: 8, nInputs: 8 };
    const a = netFromCheckpoint(r.checkpoint);
    const b = netFromCheckpoint(ck);
    expect(await predictScaled(b, set)).toEqual(await predictScaled(a, set));
    // Re-encoding the decoded checkpoint gives the same bytes; the layer rebuilds from its config.
    expect(await encodeSmileCheckpoint(ck)).toEqual(r.bytes);
    const layer = layerFromConfig('MultiHeadSelfAttention', ck.attention![0]!.config);
    expect(layer).toBeInstanceOf(MultiHeadSelfAttention);
    expect((layer as MultiHeadSelfAttention).numHeads).toBe(2);
    [a, b].forEach((n) => n.dispose());
    x.dispose();
  });

  it('a checkpoint whose tensors do not match its model is refused, naming the field', async () => {
    const r = await trainSmile(tiny, inputs);
    const weights = new Map(r.checkpoint.weights);
    weights.delete('head.w');
    await expect(decodeSmileCheckpoint(await encodeSmileCheckpoint({ ...r.checkpoint, weights }), 'bad.hlckpt')).rejects.toThrow(/bad\.hlckpt: weights\.head\.w: is missing/);
    await expect(decodeSmileCheckpoint(await encodeSmileCheckpoint({ ...r.checkpoint, session: { ...SESSION, tz: 'Mars/Olympus' } }), 'bad.hlckpt')).rejects.toBeInstanceOf(InputError);
  });
});
