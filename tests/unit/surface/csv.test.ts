import { describe, expect, it } from 'vitest';
import { readSurfaceCsv, surfaceToCsv, surfaceFromCsv, quotesFromCsv } from '../../../src/core/surface/csv.ts';
import { parseTimeMs } from '../../../src/core/io/csv.ts';
import { optionFromName } from '../../../src/core/io/instruments.ts';
import type { Surface } from '../../../src/core/surface/types.ts';
import { InputError } from '../../../src/core/errors.ts';

const TS = Date.UTC(2023, 11, 1, 8);
const sigma = (k: number) => Math.sqrt(0.36 + 0.1 * k); // w linear in k: interpolation is exact

describe('grid layout', () => {
  const s: Surface = {
    kGrid: [-0.2, 0, 0.2],
    tGrid: [0.1, 0.5],
    iv: Float64Array.of(0.61, 0.6, 0.55, 0.56, 0.57, 0.58),
    mask: Uint8Array.of(0, 0, 0, 1, 0, 0),
    spot: 37000.5,
    forward: [37100, 37500],
    timestamp: TS,
    source: 'deribit:BTC',
    name: 'BTC morning',
  };
  it('round-trips through surfaceToCsv (masked points as empty cells)', () => {
    const text = surfaceToCsv(s);
    expect(text.split('\n')[2]).toBe('k\\T,0.1,0.5');
    expect(text.split('\n')[4]).toBe('0,0.55,');
    const back = surfaceFromCsv(text, 's.csv');
    expect(back.kGrid).toEqual(s.kGrid);
    expect(back.forward).toEqual(s.forward);
    expect(Array.from(back.mask!)).toEqual(Array.from(s.mask!));
    expect({ ...back, iv: null, mask: null }).toEqual({ ...s, iv: null, mask: null });
  });
  it('reads a hand-typed grid in percent with a header line stating it', () => {
    const r = readSurfaceCsv('# iv=percent; spot=100; timestamp=2023-12-01T08:00:00Z\nk,0.25,1\n-0.1,22,21\n0.1,18,19\n', 'h.csv');
    expect(r.warnings).toEqual([]);
    expect(Array.from(r.surface.iv)).toEqual([0.22, 0.21, 0.18, 0.19]);
    expect(r.surface.timestamp).toBe(TS);
  });
  it('warns (never silently) when it has to infer the unit, spot and timestamp', () => {
    const r = readSurfaceCsv('k,0.25,1\n-0.1,22,21\n0.1,18,19\n', 'h.csv', { now: () => TS });
    expect(r.warnings.join('\n')).toMatch(/IV unit is not stated; read as PERCENT/);
    expect(r.warnings.join('\n')).toMatch(/no spot given/);
    expect(r.warnings.join('\n')).toMatch(/no timestamp given/);
    expect(r.surface.iv[0]).toBeCloseTo(0.22, 15);
  });
  it('converts strike rows to ln(K/F)', () => {
    const r = readSurfaceCsv('# iv=decimal; spot=100; timestamp=1701417600\nstrike,0.5\n90,0.3\n100,0.25\n110,0.22\n', 'k.csv');
    expect(r.surface.kGrid.map((k) => +k.toFixed(12))).toEqual([Math.log(0.9), 0, Math.log(1.1)].map((k) => +k.toFixed(12)));
    expect(r.surface.iv[1]).toBeCloseTo(0.25, 14);
    expect(r.warnings.join()).toMatch(/no forwards given/);
  });
  it('names row and column of a bad cell', () => {
    expect(() => surfaceFromCsv('# iv=decimal; spot=1; timestamp=1701417600\nk,0.25,1\n-0.1,0.2,abc\n', 'bad.csv')).toThrow(/bad\.csv: row 3, column 3 \(T=1\): "abc" is not a number/);
    expect(() => surfaceFromCsv('# spot=1; timestamp=1701417600; iv=decimal\nk,0.25,1\n-0.1,0.2\n', 'bad.csv')).toThrow(/bad\.csv: row 3: has 2 cells but the header has 3/);
    expect(() => surfaceFromCsv('# iv=decimal; spot=1; timestamp=1701417600\nk,0.25,0.1\n-0.1,0.2,0.2\n', 'bad.csv')).toThrow(/t_grid is not increasing/);
  });
});

function longCsv(): string {
  const lines = ['expiry,strike,type,iv_pct,underlying_price,timestamp'];
  const expiries = [['2024-01-26T08:00:00Z', 37500], ['2024-03-29T08:00:00Z', 38500]] as const;
  for (const [exp, F] of expiries) {
    for (const K of [25000, 30000, 35000, 37500, 40000, 45000, 50000]) {
      for (const type of ['call', 'put']) {
        const otm = type === 'call' ? K >= F : K < F;
        const iv = otm ? sigma(Math.log(K / F)) * 100 : 150; // ITM rows carry a wrong vol on purpose
        lines.push(`${exp},${K},${type},${iv},${F},2023-12-01T08:00:00Z`);
      }
    }
  }
  return lines.join('\n');
}

describe('long layout (one row per option)', () => {
  it('builds a surface on the expiries, OTM side, IV percent from the header', () => {
    const r = readSurfaceCsv(longCsv(), 'long.csv', { kGrid: [-0.2, 0, 0.2] });
    expect(r.layout).toBe('long');
    const T1 = (Date.UTC(2024, 0, 26, 8) - TS) / (365 * 86400e3);
    expect(r.surface.tGrid[0]).toBeCloseTo(T1, 14);
    for (let i = 0; i < 3; i++) expect(r.surface.iv[i * 2]).toBeCloseTo(sigma(r.surface.kGrid[i]!), 12);
    expect(r.surface.timestamp).toBe(TS);
    expect(r.surface.spot).toBe(37500);
    expect(r.warnings.join()).toMatch(/spot taken as the nearest expiry's underlying price/);
  });
  it('names the row and column of a bad value', () => {
    const bad = longCsv().split('\n');
    bad[5] = bad[5]!.replace('call', 'maybe');
    expect(() => readSurfaceCsv(bad.join('\n'), 'long.csv')).toThrow(/long\.csv: row 6, column 'type': "maybe" is not call or put/);
    bad[5] = bad[5]!.replace('maybe', 'call').replace(',35000,', ',x,');
    expect(() => readSurfaceCsv(bad.join('\n'), 'long.csv')).toThrow(/row 6, column 'strike': "x" is not a number/);
  });
  it('refuses expiry dates without any timestamp', () => {
    const noTs = longCsv().split('\n').map((l) => l.split(',').slice(0, 5).join(',')).join('\n');
    expect(() => readSurfaceCsv(noTs, 'n.csv')).toThrow(/no timestamp/);
  });
});

describe('Deribit book summary and Tardis options_chain', () => {
  const names = [['29DEC23', 37600], ['29MAR24', 38600]] as const;
  function deribit(): string {
    const lines = ['instrument_name,base_currency,quote_currency,underlying_index,underlying_price,mark_price,mark_iv,bid_price,ask_price,open_interest,volume,creation_timestamp,estimated_delivery_price,interest_rate'];
    for (const [d, F] of names) {
      for (const K of [30000, 35000, 40000, 45000]) {
        for (const cp of ['C', 'P']) lines.push(`BTC-${d}-${K}-${cp},BTC,BTC,BTC-${d},${F},0.01,${(sigma(Math.log(K / F)) * 100).toFixed(10)},0.009,0.011,10,1,${TS},37550.1,0`);
      }
    }
    return lines.join('\n');
  }
  it('parses instrument names (Deribit expiries at 08:00 UTC)', () => {
    expect(optionFromName('BTC-29DEC23-40000-C')).toMatchObject({ base: 'BTC', expiry: Date.UTC(2023, 11, 29, 8), strike: 40000, isCall: true });
    expect(optionFromName('btc-29dec23-40000-c')?.strike).toBe(40000);
    expect(optionFromName('XRP_USDC-1MAR24-0d625-P')?.strike).toBe(0.625);
    expect(optionFromName('BTC-PERPETUAL')).toBeUndefined();
  });
  it('refuses an expiry day the month does not have instead of rolling into the next month', () => {
    // 30FEB24 once read as 2024-03-01 08:00: a day's error in T on the shortest expiry.
    expect(optionFromName('BTC-30FEB24-40000-C')).toBeUndefined();
    expect(() => parseTimeMs('30FEB24', 'f.csv: row 2')).toThrow(InputError);
    expect(parseTimeMs('29feb24', 'x')).toBe(Date.UTC(2024, 1, 29, 8));
  });
  it('reads the book summary with mark_iv in percent', () => {
    const r = readSurfaceCsv(deribit(), 'book_summary.csv', { kGrid: [-0.1, 0, 0.1] });
    expect(r.layout).toBe('deribit');
    expect(r.surface.source).toBe('deribit:BTC:book_summary.csv');
    for (let i = 0; i < 3; i++) expect(r.surface.iv[i * 2 + 1]).toBeCloseTo(sigma(r.surface.kGrid[i]!), 9);
  });
  function tardis(): string {
    const lines = ['exchange,symbol,timestamp,local_timestamp,type,strike_price,expiration,open_interest,last_price,bid_price,bid_amount,bid_iv,ask_price,ask_amount,ask_iv,mark_price,mark_iv,underlying_index,underlying_price,delta,gamma,vega,theta,rho'];
    for (const [stamp, shift] of [[TS - 60_000, 0.05], [TS, 0], [TS + 60_000, 0.07]] as const) {
      for (const [d, F] of names) {
        for (const K of [30000, 35000, 40000, 45000]) {
          for (const cp of ['call', 'put']) {
            const exp = d === '29DEC23' ? Date.UTC(2023, 11, 29, 8) : Date.UTC(2024, 2, 29, 8);
            lines.push(`deribit,BTC-${d}-${K}-${cp === 'call' ? 'C' : 'P'},${stamp * 1000},${stamp * 1000 + 120},${cp},${K},${exp * 1000},1,,,,,,,,0.01,${(sigma(Math.log(K / F)) + shift).toFixed(12)},BTC-${d},${F},0.5,0,0,0,0`);
          }
        }
      }
    }
    return lines.join('\n');
  }
  it('reads Tardis options_chain: microsecond times, the latest rows at or before `at`', () => {
    const r = readSurfaceCsv(tardis(), 'tardis.csv', { at: TS, kGrid: [-0.1, 0, 0.1] });
    expect(r.layout).toBe('tardis');
    expect(r.surface.timestamp).toBe(TS);
    expect(r.warnings.join('\n')).toMatch(/IV unit is not stated; read as DECIMALS/);
    expect(r.warnings.join('\n')).toMatch(/16 rows after the snapshot time/);
    for (let i = 0; i < 3; i++) expect(r.surface.iv[i * 2]).toBeCloseTo(sigma(r.surface.kGrid[i]!), 9);
    expect(() => readSurfaceCsv(tardis(), 'tardis.csv', { at: TS - 3_600_000 })).toThrow(/tardis\.csv: no quotes at or before the snapshot time 2023-12-01T07:00:00.000Z/);
    const q = quotesFromCsv(tardis(), 'tardis.csv', { ivUnit: 'decimal' });
    expect(q.timestamp).toBe(TS + 60_000);
    expect(q.warnings.join()).not.toMatch(/IV unit/);
  });
});

describe('time parsing', () => {
  it('accepts epoch s / ms / µs / ns and ISO dates', () => {
    for (const c of ['1701417600', '1701417600000', '1701417600000000', '1701417600000000000', '2023-12-01T08:00:00Z', '2023-12-01 08:00:00']) expect(parseTimeMs(c, 'x')).toBe(TS);
    expect(() => parseTimeMs('yesterday', 'f.csv: row 2')).toThrow(InputError);
  });
});
