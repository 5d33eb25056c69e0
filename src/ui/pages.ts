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
  { id: 'diagnostics', title: 'Diagnostics', blurb: 'Compute backends, self-test and timings', load: () => import('./pages/Diagnostics.svelte') },
];

export const DEFAULT_PAGE = 'diagnostics';
