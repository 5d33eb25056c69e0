import { describe, expect, it } from 'vitest';
import { defaultsOf, flagName } from '../../../src/core/config.ts';
import { DEFAULT_SMILE_TRAIN_CONFIG } from '../../../src/core/smile/trainer.ts';
import { DEFAULT_QUOTE_RETENTION } from '../../../src/core/smile/quoteStore.ts';
import { SMILE_STATE_SPEC, SMILE_TRAIN_KEYS } from '../../../src/ui/state/smile.ts';
import { decodeState, encodeState } from '../../../src/ui/state/urlState.ts';

describe('Smile page state (src/ui/state/smile.ts)', () => {
  it("takes the training defaults from SMILE_TRAIN_SPEC and the retention's from core; flag names are unique", () => {
    const d = defaultsOf(SMILE_STATE_SPEC);
    for (const k of SMILE_TRAIN_KEYS) expect(d[k]).toEqual(DEFAULT_SMILE_TRAIN_CONFIG[k]);
    expect({ retentionDays: d.retentionDays, maxMb: d.maxMb }).toEqual(DEFAULT_QUOTE_RETENTION);
    expect(d).toMatchObject({ session: 'spy', source: 'chain', contracts: '', recordSamplingSec: 10 });
    const flags = Object.keys(SMILE_STATE_SPEC).map(flagName);
    expect(new Set(flags).size).toBe(flags.length);
    expect(encodeState(SMILE_STATE_SPEC, d)).toBe('');
  });

  it('round-trips a setup through the link under the CLI flag names, and skips a bad field', () => {
    const st = { ...defaultsOf(SMILE_STATE_SPEC), model: 'lstm' as const, seqLength: 12, maxMb: 5, source: 'contracts' as const, contracts: 'BTC-27DEC24-100000-C,BTC-27DEC24-90000-P', expiries: '2026-01-16T21:00:00.000Z' };
    const q = encodeState(SMILE_STATE_SPEC, st);
    expect(new URLSearchParams(q).get('seq-length')).toBe('12');
    expect(new URLSearchParams(q).get('max-mb')).toBe('5');
    const back = decodeState(SMILE_STATE_SPEC, q);
    expect(back.ignored).toEqual([]);
    expect({ ...defaultsOf(SMILE_STATE_SPEC), ...back.values }).toEqual(st);
    const bad = decodeState(SMILE_STATE_SPEC, 'max-mb=0&retention-days=2&model=rnn');
    expect(bad.values).toEqual({ retentionDays: 2 });
    expect(bad.ignored).toHaveLength(2);
  });
});
