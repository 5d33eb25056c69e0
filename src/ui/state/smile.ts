/**
 * Smile page settings: the session and iv unit quotes are read with, the quote store's retention
 * (core's QUOTE_RETENTION_SPEC, the same as `smile import`'s --retention-days / --max-mb), what
 * to record (the whole chain or chosen contracts, the sampling interval, the endpoint), the
 * dataset's expiries, the training run (every field of core's SMILE_TRAIN_SPEC, the same as
 * `smile train`'s flags, with its defaults) and the prediction's time and expiry.
 */
import type { ConfigSpec } from '../../core/config.ts';
import { DERIBIT_WS_URL } from '../../core/feeds/deribit.ts';
import { QUOTE_RETENTION_SPEC, type QuoteRetention } from '../../core/smile/quoteStore.ts';
import { SMILE_TRAIN_SPEC, type SmileTrainConfig } from '../../core/smile/trainer.ts';

export interface SmileState extends SmileTrainConfig, QuoteRetention {
  session: 'spy' | 'crypto';
  /** 'auto': the file's unit (a file whose vols exceed 3 is refused, as in the CLI). */
  ivUnit: 'auto' | 'decimal' | 'pct';
  currency: 'BTC' | 'ETH';
  recordSamplingSec: number;
  source: 'chain' | 'contracts';
  /** Chosen contracts' instrument names, comma-separated (source 'contracts'). */
  contracts: string;
  deribitWsUrl: string;
  /** Dataset expiries, comma-separated ISO times ('' = all). */
  expiries: string;
  /** Time of the last input quote of a prediction, 'YYYY-MM-DDTHH:MM' UTC ('' = an hour before the store's last quote). */
  at: string;
  /** Expiry to predict, ISO ('' = the nearest). */
  expiry: string;
}

export const SMILE_STATE_SPEC: ConfigSpec<SmileState> = {
  session: { default: 'spy', choices: ['spy', 'crypto'], doc: 'session: SPY (09:30 New York, equity nights split) or crypto (00:00 UTC, 24/7)' },
  ivUnit: { default: 'auto', choices: ['auto', 'decimal', 'pct'], doc: 'iv unit of imported files (auto: from the file)' },
  ...QUOTE_RETENTION_SPEC,
  currency: { default: 'BTC', choices: ['BTC', 'ETH'], doc: 'Deribit option currency to record' },
  // 10 s: a 42-contract BTC chain is then ~360 000 quotes (23 MB) a day; the stream's marks move about once a second.
  recordSamplingSec: { default: 10, min: 1, max: 86_400, doc: 'recording sampling interval', unit: 's' },
  source: { default: 'chain', choices: ['chain', 'contracts'], doc: 'record the whole chain (markprice.options) or chosen contracts (their tickers, with bid / ask)' },
  contracts: { default: '', doc: 'chosen contracts, comma-separated instrument names (e.g. BTC-27DEC24-100000-C)' },
  deribitWsUrl: { default: DERIBIT_WS_URL, doc: 'Deribit WebSocket endpoint' },
  expiries: { default: '', doc: 'dataset expiries, comma-separated ISO times (empty: all)' },
  ...SMILE_TRAIN_SPEC,
  at: { default: '', doc: 'prediction time (last input quote), UTC' },
  expiry: { default: '', doc: 'expiry to predict (empty: the nearest)' },
};

export const SMILE_TRAIN_KEYS = Object.keys(SMILE_TRAIN_SPEC) as (keyof SmileTrainConfig)[];
