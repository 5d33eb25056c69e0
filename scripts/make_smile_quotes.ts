/**
 * Writes the bundled SYNTHETIC option quote set public/samples/quotes_synthetic.csv (the Smile
 * page's offline demo and the README's figures), deterministically from a seed:
 * SPY-like, 09:30–16:00 America/New_York every 5 minutes on Mon 5 – Thu 8 January 2026 (316
 * timestamps), expiries 16 Jan and 13 Feb 2026 (16:00 New York), strikes 590·(1 ± 0.02, 0.06),
 * calls and puts: 16 contracts, 5056 quotes. Each contract's IV is a smooth smile plus an AR(1)
 * deviation (φ = 0.5, σ = 0.4 vol points per step; src/core/smile/synthetic.ts), so a model can beat
 * persistence by at most skill 0.134. Not market data: the file says so in its header.
 * Run: npx tsx scripts/make_smile_quotes.ts [--out FILE] [--seed S]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { syntheticQuotes, DEFAULT_SYNTHETIC_QUOTES } from '../src/core/smile/synthetic.ts';
import { writeQuotesCsv } from '../src/core/smile/quotes.ts';

const { values } = parseArgs({ options: { out: { type: 'string' }, seed: { type: 'string' } }, strict: true });
const out = values.out ?? 'public/samples/quotes_synthetic.csv';
const seed = Number(values.seed ?? DEFAULT_SYNTHETIC_QUOTES.seed);
const config = { ...DEFAULT_SYNTHETIC_QUOTES, seed, days: 4 };
const quotes = syntheticQuotes(config);
const text = writeQuotesCsv(quotes, {
  synthetic: 'true',
  description: `SYNTHETIC quotes (not market data): smooth smile + AR(1) deviation phi=${config.phi} noise=${config.noise}; scripts/make_smile_quotes.ts seed=${seed}`,
});
writeFileSync(out, text);
process.stderr.write(`${out}: ${quotes.length} quotes, ${(text.length / 1024).toFixed(0)} KB\n`);
