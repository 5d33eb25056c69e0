/**
 * The page registry (TensorFlow Playground's habit: choices are registries). Adding a page is
 * one entry here; the navigation lists it automatically. Pages load lazily so the shell starts
 * fast and a page's heavy dependencies (echarts-gl, tfjs models) load only when opened.
 */
import type { Component } from 'svelte';

export interface PageDef {
  id: string;
  title: string;
  /** One line shown under the title in the navigation tooltip. */
  blurb: string;
  load: () => Promise<{ default: Component }>;
}

export const PAGES: PageDef[] = [
  // pages: one entry per page, in navigation order
  { id: 'pricer', title: 'Pricer & Calibration', blurb: 'Heston IV surface live from five parameters; Levenberg–Marquardt calibration; float32 GPU pricer check', load: () => import('./pages/Pricer.svelte') },
  { id: 'surfaces', title: 'Surfaces', blurb: 'Surface library: import, inspect in 3-D, smiles, term structure, compare, export', load: () => import('./pages/Surface.svelte') },
  { id: 'data', title: 'Data', blurb: 'Deribit surfaces, Binance series, live smile, aligned market data', load: () => import('./pages/Data.svelte') },
  { id: 'inverse', title: 'Inverse', blurb: 'Inverse-Heston network: train, evaluate, checkpoints, apply to surfaces', load: () => import('./pages/Inverse.svelte') },
  { id: 'rl', title: 'RL', blurb: 'PPO trader: train on a simulated or stored market in a worker, live diagnostics, backtest against buy-and-hold and flat', load: () => import('./pages/RL.svelte') },
  { id: 'smile', title: 'Smile', blurb: 'Next-step IV forecasting (IV_SMILE): record or import option quotes, train GRU / LSTM / MLP / Transformer against persistence, predicted vs realised smiles', load: () => import('./pages/Smile.svelte') },
  { id: 'runs', title: 'Runs', blurb: 'Tracked training runs: compare params, metric curves and artifacts; export / import MLflow mlruns zips', load: () => import('./pages/Runs.svelte') },
  { id: 'diagnostics', title: 'Diagnostics', blurb: 'Compute backends, self-test and timings', load: () => import('./pages/Diagnostics.svelte') },
];

// A new user lands on the surface library, which holds the bundled samples on first open.
export const DEFAULT_PAGE = 'surfaces';
