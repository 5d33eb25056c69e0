/**
 * The rune side of urlState.ts: a page calls `pageState('pricer', PRICER_STATE_SPEC)` once while
 * it initialises and binds its inputs to `.value`. The state starts from the link in the address
 * bar (#/pricer?…), or, when the address carries none, from the page's last state in this tab
 * (sessionStorage; localStorage where the page asks for it), or the defaults; every change is
 * written back to the hash (history.replaceState: no history entry, no hashchange, no reload)
 * so the address bar is always a link to this setup. A hash edited by hand is read back.
 */
import { defaultsOf, type ConfigSpec } from '../../core/config.ts';
import { decodeState, encodeState, hashParts, stateHash } from './urlState.ts';

export interface PageState<C> {
  /** The settings, deeply reactive: bind inputs to its fields. */
  readonly value: C;
  /** What the opening link asked for that could not be applied, one line each. */
  readonly ignored: string[];
  /** Back to the defaults (and a bare #/page). */
  reset(): void;
}

/** Hash writes wait this long after the last change: a dragged slider changes ~60 times a second. */
const WRITE_DELAY_MS = 150;

export function pageState<C extends object>(page: string, spec: ConfigSpec<C>, opts: { storage?: 'session' | 'local' } = {}): PageState<C> {
  const storage = opts.storage === 'local' ? localStorage : sessionStorage;
  const storeKey = `heston-lab/state/${page}`;
  const fromAddress = () => {
    const h = hashParts(location.hash);
    return h.page === page ? h.query : '';
  };
  const start = fromAddress() || (storage.getItem(storeKey) ?? '');
  const decoded = decodeState(spec, start);
  const value = $state<C>({ ...defaultsOf(spec), ...decoded.values });
  let ignored = $state<string[]>(fromAddress() ? decoded.ignored : []);
  let written = encodeState(spec, $state.snapshot(value) as C);

  const write = (query: string) => {
    written = query;
    storage.setItem(storeKey, query);
    if (hashParts(location.hash).page !== page) return;
    const want = stateHash(page, query);
    if (location.hash !== want) history.replaceState(history.state, '', want);
  };

  $effect(() => {
    const query = encodeState(spec, $state.snapshot(value) as C);
    if (query === written && fromAddress() === query) return;
    const t = setTimeout(() => write(query), WRITE_DELAY_MS);
    return () => clearTimeout(t);
  });

  $effect(() => {
    // A link pasted into this tab's address bar for the page already open: apply it.
    const onHash = () => {
      const h = hashParts(location.hash);
      if (h.page !== page || h.query === written) return;
      // The navigation's own link (#/page, no settings) keeps the page as it is.
      if (h.query === '') return void write(written);
      const d = decodeState(spec, h.query);
      Object.assign(value, defaultsOf(spec), d.values);
      ignored = d.ignored;
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  });

  return {
    value,
    get ignored() {
      return ignored;
    },
    reset() {
      Object.assign(value, defaultsOf(spec));
      ignored = [];
    },
  };
}
