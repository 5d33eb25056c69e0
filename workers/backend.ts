/**
 * The backend jobs every tfjs-using worker spreads into its job table, so the page can put each
 * worker on the backend the user chose (src/ui/lib/labWorker.ts calls setBackend first). They
 * are exclusive() (src/core/backend/lock.ts): a backend switch never interleaves with another one.
 */
import { backendInfo, BACKEND_ORDER, initBackend, type BackendName } from '../src/core/backend/backends.ts';
import { useBundledWasm } from './wasmUrls.vite.ts';
import { exclusive } from '../src/core/backend/lock.ts';
import { pickForTraining, type MeasuredSpeed } from '../src/core/backend/rank.ts';

useBundledWasm();

export const backendJobs = {
  /** Use `name`; if it fails here, fall back as "auto" would (never to a software GPU over wasm) and say why in `attempts`. */
  setBackend: exclusive(async (args: { name: BackendName }) => {
    const first = await initBackend(args.name);
    if (first.ok) return { active: args.name, attempts: [first], info: await backendInfo() };
    const picked = await pickForTraining(BACKEND_ORDER.filter((b) => b !== args.name));
    return { active: picked.active, attempts: [first, ...picked.attempts], info: await backendInfo() };
  }),
  /**
   * Pick the backend that trains fastest here (preferred first when given): by the self-test's
   * measured times when the page has them, and never a software GPU over wasm (src/core/backend/rank.ts).
   */
  pickBackend: exclusive(async (args: { preferred?: BackendName; measured?: MeasuredSpeed[] }) => {
    const picked = await pickForTraining(BACKEND_ORDER, { preferred: args.preferred, measured: args.measured });
    return { ...picked, info: await backendInfo() };
  }),
};
