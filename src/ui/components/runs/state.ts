/**
 * Runs page settings, in the address bar like every page's (src/ui/state): which experiment, the
 * filter, the sort, the columns, the selected runs, the opened run and the comparison's metric and
 * parameter. A link to `#/runs?selected=a,b&metric=val_loss` opens that comparison.
 */
import type { ConfigSpec } from '../../../core/config.ts';

export interface RunsState {
  experiment: string;
  filter: string;
  sort: string;
  desc: boolean;
  columns: string;
  selected: string;
  run: string;
  metric: string;
  xParam: string;
  showDeleted: boolean;
}

export const RUNS_STATE_SPEC: ConfigSpec<RunsState> = {
  experiment: { default: '', doc: 'experiment id to show (empty: all experiments)' },
  filter: { default: '', doc: "MLflow-style filter: metrics.val_loss < 0.3 and params.optimizer = 'adam'; bare words search names" },
  sort: { default: 'start', doc: 'sort column: name, status, start, duration, params.<key> or metrics.<key>' },
  desc: { default: true, doc: 'sort descending' },
  columns: { default: '', doc: 'comma-separated params.<key> / metrics.<key> columns (empty: the ones that differ)' },
  selected: { default: '', doc: 'comma-separated ids of the runs to compare' },
  run: { default: '', doc: 'id of the run whose details are open' },
  metric: { default: '', doc: 'metric plotted by step in the comparison' },
  xParam: { default: '', doc: 'param on the x axis of the params-vs-metric scatter' },
  showDeleted: { default: false, doc: 'list deleted runs too' },
};

export const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
