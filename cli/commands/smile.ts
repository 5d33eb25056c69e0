/**
 * `smile import | export | features | train | predict`: the IV_SMILE pipeline headless, on the
 * wasm backend. Quotes are the long CSV layout (src/core/smile/quotes.ts); the session flags and
 * --iv-unit apply to every command and are stored in the checkpoint, so predict reads quotes the
 * way training did unless told otherwise.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import { initBackend } from '../../src/core/backend/backends.ts';
import { configFlags, configFromFlags, configHelp, resolveConfig } from '../../src/core/config.ts';
import { FileStore } from '../../src/core/store/files.ts';
import { namespaced } from '../../src/core/store/store.ts';
import { runTracked } from '../../src/core/tracking/tracker.ts';
import { DEFAULT_QUOTE_RETENTION, QUOTE_RETENTION_SPEC, QuoteStore, retentionLimits } from '../../src/core/smile/quoteStore.ts';
import { isoTime, parseExpiry, parseIvUnit, readQuotesCsv, writeQuotesCsv, type ReadQuotesResult, type SmileIvUnit } from '../../src/core/smile/quotes.ts';
import { checkSession, CRYPTO_SESSION, SPY_SESSION, type SessionConfig } from '../../src/core/smile/session.ts';
import { featureMatrix, SEED_FEATURES } from '../../src/core/smile/optionFeatures.ts';
import { SMILE_TRAIN_SPEC, trainSmile } from '../../src/core/smile/trainer.ts';
import { decodeSmileCheckpoint } from '../../src/core/smile/checkpoint.ts';
import { predictSmile } from '../../src/core/smile/evaluate.ts';
import { parseTimeMs } from '../../src/core/io/csv.ts';
import { parse, requireOption, writeAtomic, type CommandDef } from '../io.ts';
import { TRACKING_HELP, TRACKING_OPTIONS, startRunFromArgs } from '../tracking.ts';

const SESSION_OPTIONS = {
  session: { type: 'string' },
  'session-open': { type: 'string' },
  'session-tz': { type: 'string' },
  'session-kind': { type: 'string' },
  'expiry-time': { type: 'string' },
  'iv-unit': { type: 'string' },
} as const;

const SESSION_HELP = `  --session spy|crypto          session preset (default spy: 09:30 America/New_York, equity, bare-date
                                expiries at 16:00; crypto: 00:00 UTC, continuous, expiries 08:00 UTC)
  --session-open HH:MM          local session open (minutes_since_open counts from it)
  --session-tz ZONE             IANA zone of the open and of hour_sin/hour_cos (America/New_York, UTC …)
  --session-kind equity|continuous   equity: a contract's quotes on different local days are never joined
  --expiry-time HH:MM           local time assumed for an expiry written as a bare date
  --iv-unit pct|decimal         how the file writes vols (needed when any vol exceeds 3)`;

type SessionValues = { [K in keyof typeof SESSION_OPTIONS]?: string };

/** The session from the flags over a preset (or over `base`, a checkpoint's session). */
function sessionFrom(v: SessionValues, base?: SessionConfig): SessionConfig {
  let s: SessionConfig;
  if (v.session === undefined) s = base ?? SPY_SESSION;
  else if (v.session === 'spy') s = SPY_SESSION;
  else if (v.session === 'crypto') s = CRYPTO_SESSION;
  else throw new InputError(`--session must be spy or crypto (got "${v.session}")`);
  const kind = v['session-kind'];
  if (kind !== undefined && kind !== 'equity' && kind !== 'continuous') throw new InputError(`--session-kind must be equity or continuous (got "${kind}")`);
  return checkSession({ open: v['session-open'] ?? s.open, tz: v['session-tz'] ?? s.tz, kind: (kind as SessionConfig['kind']) ?? s.kind, expiryTime: v['expiry-time'] ?? s.expiryTime }, '--session');
}

function ivUnitFrom(v: SessionValues): SmileIvUnit | undefined {
  return v['iv-unit'] === undefined ? undefined : parseIvUnit(v['iv-unit'], '--iv-unit');
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
}

function readQuotesFile(file: string, session: SessionConfig, ivUnit: SmileIvUnit | undefined): ReadQuotesResult {
  return readQuotesCsv(readText(file), basename(file), { session, ivUnit });
}

async function useWasm(): Promise<void> {
  const a = await initBackend('wasm');
  if (!a.ok) throw new InputError(`the wasm backend is unavailable here: ${a.error}`);
}

function quoteStoreAt(dir: string): QuoteStore {
  return new QuoteStore(namespaced(new FileStore(dir), 'smile/quotes'));
}

function summaryJson(s: Awaited<ReturnType<QuoteStore['summary']>>) {
  return { count: s.count, bytes: s.bytes, partitions: s.partitions, first: s.firstMs === null ? null : isoTime(s.firstMs), last: s.lastMs === null ? null : isoTime(s.lastMs), underlyings: s.underlyings, expiries: s.expiries.map(isoTime) };
}

const importCmd: CommandDef = {
  name: 'smile import',
  summary: 'import option quotes (long CSV) into a quote store directory',
  usage: `npm run --silent cli -- smile import --in QUOTES.csv --store DIR [session flags]
  --in FILE                     quotes in the long layout: ts_utc, underlying, expiry, strike, right, iv,
                                spot_price [, bid, ask, mark] (README, "Smile forecasting")
  --store DIR                   the quote store (one file per day partition; created if missing)
${configHelp(QUOTE_RETENTION_SPEC)}
                                (retention applies to what the store already holds and to this import)
${SESSION_HELP}
Prints {"imported", "dropped", "store": {count, bytes, partitions, first, last, underlyings, expiries}}
("dropped": quotes the retention limits removed).`,
  async run(argv) {
    const { values: v } = parse(argv, { in: { type: 'string' }, store: { type: 'string' }, ...SESSION_OPTIONS, ...configFlags(QUOTE_RETENTION_SPEC) });
    const file = requireOption(v.in, '--in');
    const dir = requireOption(v.store, '--store');
    const retention = configFromFlags(QUOTE_RETENTION_SPEC, v);
    const { quotes, ivUnit } = readQuotesFile(file, sessionFrom(v), ivUnitFrom(v));
    const store = quoteStoreAt(dir);
    // Limits first, so the write below keeps to them too.
    if (Object.keys(retention).length) await store.setRetention(retentionLimits({ ...DEFAULT_QUOTE_RETENTION, ...retention }));
    const imported = await store.write(quotes);
    const s = await store.summary();
    return { imported, dropped: store.droppedByRetention, iv_unit_read: ivUnit, store: summaryJson(s) };
  },
};

const exportCmd: CommandDef = {
  name: 'smile export',
  summary: 'export a quote store (or a time range of it) as the long CSV',
  usage: `npm run --silent cli -- smile export --store DIR --out QUOTES.csv [--from ISO] [--to ISO] [--underlying SYM]
Writes vols in decimals with a "# iv_unit=decimal" line; prints {"out", "quotes"}.`,
  async run(argv) {
    const { values: v } = parse(argv, { store: { type: 'string' }, out: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, underlying: { type: 'string' } });
    const dir = requireOption(v.store, '--store');
    const out = requireOption(v.out, '--out');
    const quotes = await quoteStoreAt(dir).query({ fromMs: v.from === undefined ? undefined : parseTimeMs(v.from, '--from'), toMs: v.to === undefined ? undefined : parseTimeMs(v.to, '--to'), underlying: v.underlying });
    await writeAtomic(out, writeQuotesCsv(quotes));
    return { out, quotes: quotes.length };
  },
};

const featuresCmd: CommandDef = {
  name: 'smile features',
  summary: "the seed's seven features of every quote, as CSV (full float64 precision)",
  usage: `npm run --silent cli -- smile features --quotes QUOTES.csv --out FEATURES.csv [session flags]
${SESSION_HELP}
Columns: ts_utc, expiry, strike, right, iv, ${SEED_FEATURES.join(', ')}. Prints {"out", "rows"}.`,
  async run(argv) {
    const { values: v } = parse(argv, { quotes: { type: 'string' }, out: { type: 'string' }, ...SESSION_OPTIONS });
    const file = requireOption(v.quotes, '--quotes');
    const out = requireOption(v.out, '--out');
    const session = sessionFrom(v);
    const { quotes } = readQuotesFile(file, session, ivUnitFrom(v));
    const f = featureMatrix(quotes, session);
    const d = SEED_FEATURES.length;
    const lines = [['ts_utc', 'expiry', 'strike', 'right', 'iv', ...SEED_FEATURES].join(',')];
    quotes.forEach((q, i) => lines.push([isoTime(q.tsMs), isoTime(q.expiryMs), String(q.strike), q.right, String(q.iv), ...Array.from(f.subarray(i * d, (i + 1) * d), String)].join(',')));
    await writeAtomic(out, lines.join('\n') + '\n');
    return { out, rows: quotes.length, session };
  },
};

const TRAIN_OPTIONS = { quotes: { type: 'string' }, out: { type: 'string' }, ...SESSION_OPTIONS, ...TRACKING_OPTIONS, ...configFlags(SMILE_TRAIN_SPEC) } as const;

const trainCmd: CommandDef = {
  name: 'smile train',
  summary: 'train a next-step IV forecaster (gru | lstm | mlp | transformer) and test it against persistence',
  usage: `npm run --silent cli -- smile train --quotes QUOTES.csv --model gru|lstm|mlp|transformer --seed S --out CKPT.hlckpt
       [--seq-length 20] [--epochs E] [--target change|level] [session flags] [--tracking-uri DIR --experiment NAME]
${configHelp(SMILE_TRAIN_SPEC)}
${SESSION_HELP}
${TRACKING_HELP}
Prints {"test_rmse_vol", "test_mae_vol", "persistence_rmse_vol", "skill", "n_train", "n_test", "seconds",
"by_maturity": {…}, "by_moneyness": {…}} (vol points; skill = 1 − RMSE/RMSE_persistence, ≤ 0: no better than persistence).`,
  async run(argv, ctx) {
    const { values: v } = parse(argv, TRAIN_OPTIONS);
    const file = requireOption(v.quotes, '--quotes');
    const out = requireOption(v.out, '--out');
    requireOption((v as Record<string, string | undefined>).seed, '--seed');
    const cfg = resolveConfig(SMILE_TRAIN_SPEC, configFromFlags(SMILE_TRAIN_SPEC, v), 'smile train');
    const session = sessionFrom(v);
    const { quotes, ivUnit, meta } = readQuotesFile(file, session, ivUnitFrom(v));
    await useWasm();
    const run = await startRunFromArgs(v, { experiment: 'smile', name: `smile-${cfg.model}`, tags: { 'heston-lab.kind': 'smile-forecaster', 'heston-lab.data': basename(file) } });
    const r = await runTracked(run, () => trainSmile(cfg, { quotes, session, ivUnit, dataInfo: { file: basename(file), quotes: quotes.length, synthetic: meta.synthetic === 'true' } }, { run, name: basename(out).replace(/\.hlckpt$/, '') }, ctx));
    await writeAtomic(out, r.bytes);
    const t = r.test;
    return {
      test_rmse_vol: t.rmse_vol,
      test_mae_vol: t.mae_vol,
      persistence_rmse_vol: t.persistence_rmse_vol,
      persistence_mae_vol: t.persistence_mae_vol,
      skill: t.skill,
      n_train: r.nTrain,
      n_val: r.nVal,
      n_test: r.nTest,
      best_epoch: r.bestEpoch,
      final_loss: r.history[r.history.length - 1]!.epochLoss,
      seconds: r.seconds,
      by_maturity: t.by_maturity,
      by_moneyness: t.by_moneyness,
      model: cfg.model,
      out,
      run_id: run?.runId ?? null,
    };
  },
};

const predictCmd: CommandDef = {
  name: 'smile predict',
  summary: 'the next-step smile of one expiry at a time, predicted against realised (predict_smile)',
  usage: `npm run --silent cli -- smile predict --ckpt CKPT.hlckpt --quotes QUOTES.csv --at ISO [--expiry DATE|ISO] [session flags]
  --at ISO                      time of the last input quote (the latest quote time ≤ it is used)
  --expiry DATE|ISO             the expiry (a bare date: the expiry on that UTC day); default the nearest
${SESSION_HELP}
                                (session flags default to the checkpoint's session and iv unit)
Prints {"at", "expiry", "contracts": [{"strike", "right", "last_iv", "predicted_iv", "realised_iv"}]}
(realised_iv: the contract's next quote, null when there is none).`,
  async run(argv) {
    const { values: v } = parse(argv, { ckpt: { type: 'string' }, quotes: { type: 'string' }, at: { type: 'string' }, expiry: { type: 'string' }, ...SESSION_OPTIONS });
    const ckFile = requireOption(v.ckpt, '--ckpt');
    const file = requireOption(v.quotes, '--quotes');
    const atMs = parseTimeMs(requireOption(v.at, '--at'), '--at');
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(ckFile));
    } catch (e) {
      throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, ckFile);
    }
    await useWasm();
    const ck = await decodeSmileCheckpoint(bytes, basename(ckFile));
    const session = sessionFrom(v, ck.session);
    const { quotes } = readQuotesFile(file, session, ivUnitFrom(v) ?? ck.ivUnit);
    const opts: { expiryMs?: number; expiryDayMs?: number } = {};
    if (v.expiry !== undefined) {
      if (/^\d{4}-\d{2}-\d{2}$/.test(v.expiry.trim())) opts.expiryDayMs = parseTimeMs(v.expiry, '--expiry');
      else opts.expiryMs = parseExpiry(v.expiry, session, '--expiry');
    }
    const s = await predictSmile({ ...ck, session }, quotes, atMs, opts);
    return { at: s.at, expiry: s.expiry, underlying: s.underlying, spot: s.spot, model: ck.model.kind, contracts: s.contracts.map(({ strike, right, last_iv, predicted_iv, realised_iv }) => ({ strike, right, last_iv, predicted_iv, realised_iv })), skipped: s.skipped };
  },
};

export const smileCommands: CommandDef[] = [importCmd, exportCmd, featuresCmd, trainCmd, predictCmd];
