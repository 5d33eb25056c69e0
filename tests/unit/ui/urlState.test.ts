/**
 * The URL-hash side of the pages' typed state (src/ui/state/urlState.ts): only fields that differ
 * from the defaults are written, under the CLI's flag names; reading applies each valid field and
 * reports each bad or unknown one; an empty or invalid form value never reaches a link.
 */
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, hashParts, stateHash } from '../../../src/ui/state/urlState.ts';
import { defaultsOf } from '../../../src/core/config.ts';
import { INVERSE_STATE_SPEC } from '../../../src/ui/state/inverse.ts';
import { PRICER_STATE_SPEC } from '../../../src/ui/state/pricer.ts';
import { DEFAULT_TRAIN_CONFIG } from '../../../src/core/inverse/trainer.ts';
import { DEFAULT_CALIBRATION_SETTINGS } from '../../../src/core/heston/calibrationConfig.ts';

describe('page state in the URL hash', () => {
  it('splits and builds #/page?query', () => {
    expect(hashParts('#/inverse?epochs=7&n=3000')).toEqual({ page: 'inverse', query: 'epochs=7&n=3000' });
    expect(hashParts('#/pricer')).toEqual({ page: 'pricer', query: '' });
    expect(hashParts('')).toEqual({ page: '', query: '' });
    expect(stateHash('pricer', '')).toBe('#/pricer');
    expect(stateHash('pricer', 'kappa=3')).toBe('#/pricer?kappa=3');
  });

  it('takes its defaults from core, with the page’s own declared once', () => {
    const d = defaultsOf(INVERSE_STATE_SPEC);
    expect(d.batchSize).toBe(DEFAULT_TRAIN_CONFIG.batchSize);
    expect(d.lr).toBe(DEFAULT_TRAIN_CONFIG.lr);
    expect(d.freezeParamHeads).toBe(DEFAULT_TRAIN_CONFIG.freezeParamHeads);
    expect(d.epochs).toBe(20); // the page's declared override (the trainer's is 30)
    expect(DEFAULT_TRAIN_CONFIG.epochs).toBe(30);
    const p = defaultsOf(PRICER_STATE_SPEC);
    expect({ target: p.target, multiStart: p.multiStart, seed: p.seed, fellerPenalty: p.fellerPenalty, maxIterations: p.maxIterations }).toEqual(DEFAULT_CALIBRATION_SETTINGS);
  });

  it('writes only what differs from the defaults, under the flag names, and reads it back', () => {
    const st = { ...defaultsOf(INVERSE_STATE_SPEC), epochs: 7, batchSize: 128, freezeParamHeads: false, mode: 'mixed' as const, real: 'ab12,cd34' };
    const q = encodeState(INVERSE_STATE_SPEC, st);
    expect(q).toBe('mode=mixed&batch-size=128&freeze-param-heads=false&epochs=7&real=ab12%2Ccd34'); // declaration order
    const back = decodeState(INVERSE_STATE_SPEC, q);
    expect(back.ignored).toEqual([]);
    expect({ ...defaultsOf(INVERSE_STATE_SPEC), ...back.values }).toEqual(st);
    expect(encodeState(INVERSE_STATE_SPEC, defaultsOf(INVERSE_STATE_SPEC))).toBe('');
  });

  it('never writes an empty or invalid form value into a link', () => {
    const st = { ...defaultsOf(PRICER_STATE_SPEC), kappa: null as unknown as number, theta: 9, rho: -0.5 };
    expect(encodeState(PRICER_STATE_SPEC, st)).toBe('rho=-0.5'); // kappa empty, theta above its bound of 4
  });

  it('applies the valid fields of a link and names each one it skips', () => {
    const d = decodeState(PRICER_STATE_SPEC, 'kappa=-1&rho=0.25&bogus=2&target=vol&multi-start=2.5');
    expect(d.values).toEqual({ rho: 0.25 });
    expect(d.ignored).toHaveLength(4);
    expect(d.ignored[0]).toMatch(/kappa: must be ≥ 0\.0001, got -1/);
    expect(d.ignored[1]).toMatch(/"bogus" is not a setting of this page/);
    expect(d.ignored[2]).toMatch(/target: must be one of iv, price, got "vol"/);
    expect(d.ignored[3]).toMatch(/multi-start: must be a whole number/);
  });
});
