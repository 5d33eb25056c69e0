/**
 * Surfaces page settings: which library surface is shown and which it is compared with (by
 * content hash, so a link finds the same surface in any browser that holds it — the bundled
 * samples are in every one), the library filter, and the synthetic generator's choices.
 */
import type { ConfigSpec } from '../../core/config.ts';
import type { SynthKind } from '../../core/surface/synthetic.ts';

export interface SurfacesState {
  surface: string;
  compare: string;
  filter: string;
  synthKind: SynthKind;
  synthSeed: number;
  synthN: number;
}

export const SURFACES_STATE_SPEC: ConfigSpec<SurfacesState> = {
  surface: { default: '', doc: 'content hash of the surface shown (empty: the first in the library)' },
  compare: { default: '', doc: 'content hash of the surface compared with it (empty: none)' },
  filter: { default: '', doc: 'library filter (name, tag or source)' },
  synthKind: { default: 'heston', choices: ['heston', 'proxy'], doc: 'generator: true Heston (priced) or the original design’s proxy' },
  // The CLI's `synth` has no defaults (it asks for --kind, --n and --seed); these are the page's
  // first offer: a data set that generates in about a second in the browser.
  synthSeed: { default: 1, integer: true, doc: 'generator seed' },
  synthN: { default: 2000, integer: true, min: 1, max: 1_000_000, doc: 'surfaces in a generated data set' },
};
