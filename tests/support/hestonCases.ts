import type { HestonParams } from '../../src/core/heston/params.ts';

/** One priced option of a reference fixture (tests/fixtures/heston/*.json). */
export interface PricedCase {
  label: string;
  spot: number;
  strike: number;
  T: number;
  r: number;
  q: number;
  params: HestonParams;
  call: number;
  put: number;
}
