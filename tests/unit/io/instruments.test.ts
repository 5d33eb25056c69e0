import { describe, expect, it } from 'vitest';
import { parseExpiryCode, parseInstrumentName } from '../../../src/core/io/instruments.ts';
import { InputError } from '../../../src/core/errors.ts';

describe('parseInstrumentName', () => {
  it('reads an inverse option with expiry at 08:00 UTC', () => {
    const i = parseInstrumentName('BTC-27DEC24-60000-C');
    expect(i).toMatchObject({ base: 'BTC', kind: 'option', strike: 60000, isCall: true, linear: false, settlement: undefined });
    expect(i.expiry).toBe(Date.UTC(2024, 11, 27, 8));
  });
  it('reads linear USDC options whose strike uses "d" for the decimal point', () => {
    const i = parseInstrumentName('XRP_USDC-3JAN25-0d625-P');
    expect(i).toMatchObject({ base: 'XRP', settlement: 'USDC', linear: true, kind: 'option', strike: 0.625, isCall: false });
    expect(i.expiry).toBe(Date.UTC(2025, 0, 3, 8));
  });
  it('reads futures and perpetuals', () => {
    expect(parseInstrumentName('BTC-PERPETUAL')).toMatchObject({ kind: 'perpetual', expiry: undefined });
    expect(parseInstrumentName('ETH_USDC-PERPETUAL')).toMatchObject({ kind: 'perpetual', linear: true });
    expect(parseInstrumentName('ETH-28MAR25')).toMatchObject({ kind: 'future', expiry: Date.UTC(2025, 2, 28, 8) });
  });
  it('rejects malformed names with the name in the message', () => {
    for (const bad of ['BTC-27XYZ24-60000-C', 'BTC-27DEC24-60000-X', 'BTC-27DEC24-6e4-C', 'BTC-31FEB25', 'btc', '']) {
      expect(() => parseInstrumentName(bad)).toThrow(InputError);
    }
    expect(() => parseExpiryCode('31FEB25')).toThrow(/no such day/);
  });
});
