/**
 * Data page settings: feed endpoints (core's defaults, so a proxy or a test server can be set
 * once and kept), the snapshot grid (the original design's grid, SEED_GRID, as the Deribit snapshot
 * uses), the schedule, the Binance series and the alignment tolerance. Kept in localStorage as
 * well as the address: endpoints are set once per browser.
 */
import type { ConfigSpec } from '../../core/config.ts';
import { DERIBIT_BASE_URL, DERIBIT_WS_URL } from '../../core/feeds/deribit.ts';
import { BINANCE_FUTURES_URL, BINANCE_SPOT_URL } from '../../core/feeds/binance.ts';
import { SEED_GRID } from '../../core/surface/types.ts';
import { DEFAULT_MAX_GAP_K } from '../../core/surface/fromQuotes.ts';

export interface DataState {
  deribitBaseUrl: string;
  deribitWsUrl: string;
  binanceSpotBaseUrl: string;
  binanceFuturesBaseUrl: string;
  currency: string;
  kGrid: string;
  tGrid: string;
  maxGapK: number;
  intervalMin: number;
  symbol: string;
  interval: string;
  start: string;
  end: string;
  tickerInstrument: string;
  toleranceMin: number;
}

const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16);

// The series window defaults to the last 7 days, taken when the page module loads.
export const DATA_STATE_SPEC: ConfigSpec<DataState> = {
  deribitBaseUrl: { default: DERIBIT_BASE_URL, doc: 'Deribit REST endpoint' },
  deribitWsUrl: { default: DERIBIT_WS_URL, doc: 'Deribit WebSocket endpoint' },
  binanceSpotBaseUrl: { default: BINANCE_SPOT_URL, doc: 'Binance spot REST endpoint' },
  binanceFuturesBaseUrl: { default: BINANCE_FUTURES_URL, doc: 'Binance futures REST endpoint' },
  currency: { default: 'BTC', choices: ['BTC', 'ETH'], doc: 'Deribit option currency' },
  kGrid: { default: SEED_GRID.kGrid.join(', '), doc: 'snapshot k = ln(K/F) grid' },
  tGrid: { default: SEED_GRID.tGrid.join(', '), doc: 'snapshot maturity grid, years' },
  maxGapK: { default: DEFAULT_MAX_GAP_K, min: 0.01, max: 2, doc: 'largest gap in k a snapshot point may be interpolated across' },
  intervalMin: { default: 15, integer: true, min: 1, max: 1440, doc: 'minutes between scheduled snapshots' },
  symbol: { default: 'BTCUSDT', doc: 'Binance symbol' },
  interval: { default: '1h', choices: ['5m', '15m', '1h', '4h', '1d'], doc: 'Binance bar interval' },
  start: { default: minute(Date.now() - 7 * 86_400_000), doc: 'series start (UTC)' },
  end: { default: minute(Date.now()), doc: 'series end (UTC)' },
  tickerInstrument: { default: '', doc: 'Deribit instrument whose ticker gives that expiry’s forward' },
  toleranceMin: { default: 60, integer: true, min: 1, doc: 'alignment tolerance, minutes' },
};
