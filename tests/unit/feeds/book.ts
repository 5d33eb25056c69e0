/** A synthetic Deribit book summary (documented row format) with a known smile, for tests. */
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

export function expiryCode(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCDate()}${MONTHS[d.getUTCMonth()]}${String(d.getUTCFullYear()).slice(2)}`;
}

export const BOOK_TIME = Date.UTC(2024, 11, 20, 8);
export const EXPIRIES = [Date.UTC(2024, 11, 27, 8), Date.UTC(2025, 0, 31, 8), Date.UTC(2025, 2, 28, 8), Date.UTC(2025, 5, 27, 8), Date.UTC(2025, 11, 26, 8)];

/** iv(k) = 0.5 + 0.2 k², the same at every expiry, k = ln(K/F); forward rises with T. */
export function smileIv(k: number): number {
  return 0.5 + 0.2 * k * k;
}

export function forwardFor(expiry: number): number {
  return 97000 * Math.exp(0.08 * ((expiry - BOOK_TIME) / (365 * 86_400_000)));
}

export function syntheticBook(timestamp = BOOK_TIME): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const e of EXPIRIES) {
    const F = forwardFor(e);
    for (let k = -0.6; k <= 0.6001; k += 0.05) {
      const K = Math.round((F * Math.exp(k)) / 500) * 500;
      const kk = Math.log(K / F);
      for (const side of ['C', 'P']) {
        rows.push({
          instrument_name: `BTC-${expiryCode(e)}-${K}-${side}`,
          underlying_price: F,
          underlying_index: `BTC-${expiryCode(e)}`,
          mark_iv: +(smileIv(kk) * 100).toFixed(4),
          mark_price: 0.01,
          creation_timestamp: timestamp,
          interest_rate: 0,
          base_currency: 'BTC',
        });
      }
    }
  }
  return rows;
}
