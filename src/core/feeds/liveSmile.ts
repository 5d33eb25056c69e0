/**
 * The live smile behind the Data page's stream view: the latest mark IV per option from
 * markprice.options (IV as a fraction there), forwards from ticker updates (underlying_price per
 * expiry), the index from deribit_price_index. smile(expiry) gives the OTM side per strike
 * against k = ln(K/F), the lab's convention; where no ticker has given that expiry's forward yet,
 * the index stands in and the smile says so.
 */
import { parseInstrumentName, type Instrument } from '../io/instruments.ts';
import type { MarkPriceRow } from './deribitStream.ts';

export interface SmilePoint {
  strike: number;
  k: number;
  /** Decimal. */
  iv: number;
  isCall: boolean;
}

export interface Smile {
  expiry: number;
  forward: number;
  forwardFrom: 'ticker' | 'index';
  points: SmilePoint[];
  updatedAt: number;
}

export class LiveSmileBook {
  private readonly marks = new Map<string, { inst: Instrument; iv: number; t: number }>();
  private readonly forwards = new Map<number, number>();
  private readonly bad = new Set<string>();
  indexPrice: number | undefined;
  updatedAt = 0;

  applyMarkPrices(rows: MarkPriceRow[]): void {
    for (const r of rows) {
      if (this.bad.has(r.instrumentName)) continue;
      let inst = this.marks.get(r.instrumentName)?.inst;
      if (!inst) {
        try {
          inst = parseInstrumentName(r.instrumentName);
        } catch {
          this.bad.add(r.instrumentName);
          continue;
        }
        if (inst.kind !== 'option') continue;
      }
      if (!(r.iv > 0)) continue;
      this.marks.set(r.instrumentName, { inst, iv: r.iv, t: r.timestamp });
      this.updatedAt = Math.max(this.updatedAt, r.timestamp);
    }
  }

  /** A ticker's underlying_price is its expiry's forward. */
  applyTicker(data: Record<string, unknown>): void {
    const name = String(data.instrument_name ?? '');
    const F = Number(data.underlying_price);
    try {
      const inst = parseInstrumentName(name);
      if (inst.expiry !== undefined && F > 0) this.forwards.set(inst.expiry, F);
    } catch {
      return;
    }
    const idx = Number(data.index_price);
    if (idx > 0) this.indexPrice = idx;
  }

  applyIndex(price: number): void {
    if (price > 0) this.indexPrice = price;
  }

  expiries(): number[] {
    return [...new Set([...this.marks.values()].map((m) => m.inst.expiry!))].sort((a, b) => a - b);
  }

  get size(): number {
    return this.marks.size;
  }

  smile(expiry: number): Smile | undefined {
    const fromTicker = this.forwards.get(expiry);
    const F = fromTicker ?? this.indexPrice;
    if (!(F !== undefined && F > 0)) return undefined;
    const byStrike = new Map<number, SmilePoint>();
    let updatedAt = 0;
    for (const m of this.marks.values()) {
      if (m.inst.expiry !== expiry) continue;
      const K = m.inst.strike!;
      const otm = m.inst.isCall ? K >= F : K < F;
      const prev = byStrike.get(K);
      if (prev && !otm) continue;
      byStrike.set(K, { strike: K, k: Math.log(K / F), iv: m.iv, isCall: m.inst.isCall! });
      updatedAt = Math.max(updatedAt, m.t);
    }
    const points = [...byStrike.values()].sort((a, b) => a.strike - b.strike);
    return { expiry, forward: F, forwardFrom: fromTicker !== undefined ? 'ticker' : 'index', points, updatedAt };
  }
}
