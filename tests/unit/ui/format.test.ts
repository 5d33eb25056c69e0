import { describe, expect, it } from 'vitest';
import { formatLogMoneyness, formatMaturity, formatTick, formatVolPct, plural, termTooltip } from '../../../src/ui/lib/format.ts';

describe('formatting for people', () => {
  it('writes maturities as days, months or years', () => {
    expect(formatMaturity(7 / 365)).toBe('7 d');
    expect(formatMaturity(0.019178082191780823)).toBe('7 d');
    expect(formatMaturity(0.05)).toBe('18 d');
    expect(formatMaturity(0.25)).toBe('3 m');
    expect(formatMaturity(0.5)).toBe('6 m');
    expect(formatMaturity(1)).toBe('1.0 y');
    expect(formatMaturity(2.5)).toBe('2.5 y');
    expect(formatMaturity(0.3)).toBe('3.6 m');
    expect(formatMaturity(0.5 / 365)).toBe('12 h');
    expect(formatMaturity(NaN)).toBe('–');
  });
  it('writes vols in percent, log-moneyness signed, counts with the right noun, short ticks', () => {
    expect(formatVolPct(0.5523)).toBe('55.2 %');
    expect(formatLogMoneyness(-0.4)).toBe('−0.40');
    expect(formatLogMoneyness(0.2)).toBe('+0.20');
    expect(formatLogMoneyness(-0.001)).toBe('0.00');
    expect(plural(1, 'worker')).toBe('1 worker');
    expect(plural(2, 'worker')).toBe('2 workers');
    expect(formatTick(0.30000000000000004)).toBe('0.3');
    expect(formatTick(1234.5678)).toBe('1230');
  });
  it('term-structure tooltips name the maturity and round the vol (echarts params, axis trigger)', () => {
    expect(termTooltip([{ value: [0.10136986301369863, 16.814019668444253] }])).toBe('37 d: 16.81 %');
    expect(termTooltip({ value: [2, null] })).toBe('2.0 y: masked');
    expect(termTooltip([])).toBe('');
  });
});
