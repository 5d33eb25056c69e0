/**
 * Runs as one zip (fflate; browser-safe): the archive's top folder is `mlruns/`, an MLflow
 * FileStore tree whose artifact URIs are relative (`./mlruns/<exp>/<run>/artifacts`), plus
 * `mlruns/README.md` saying how to open it (MLflow reads only sub-folders as experiments, so the
 * README is invisible to it). Import takes such a zip, or a zip of a bare tree (experiment folders
 * at the top), or one whose single top folder holds the tree.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { InputError } from '../errors.ts';
import type { LabTracker } from './tracker.ts';
import { MemoryTree, utf8 } from './tree.ts';

export const EXPORT_README = `# MLflow runs exported from Heston Lab

This folder is an MLflow FileStore tree (the format \`mlflow ui --backend-store-uri ./mlruns\`
reads). Artifact URIs are relative (\`./mlruns/<experiment>/<run>/artifacts\`): MLflow resolves
them against the directory it is started in, so start it in the folder that CONTAINS \`mlruns/\`.

    cd <folder that contains mlruns/>
    mlflow ui --backend-store-uri ./mlruns                                   # MLflow 2.x, 3.0–3.12

- MLflow 3.7+ defaults to a SQLite store (\`sqlite:///mlflow.db\`); name the FileStore explicitly
  with \`--backend-store-uri ./mlruns\` as above.
- MLflow 3.13+ refuses a FileStore unless you allow it:

      MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri ./mlruns

- Or migrate it to SQLite once (MLflow 3.10+) and use that from then on:

      mlflow migrate-filestore --source ./mlruns --target sqlite:///mlflow.db
      mlflow ui --backend-store-uri sqlite:///mlflow.db

  (or pin \`pip install "mlflow<3.13"\`).

Runs keep their ids, statuses, start and end times, params, tags, full metric histories (every
step and timestamp, NaN included) and artifacts. Heston Lab imports this zip back (Runs page →
Import, or \`heston-lab runs import FILE.zip\`).
`;

/** Exports runs (all, or runIds) from a tracker as zip bytes. */
export async function exportRunsZip(tracker: LabTracker, runIds?: string[]): Promise<{ bytes: Uint8Array; runs: number; experiments: number }> {
  const tree = new MemoryTree();
  const counts = await tracker.exportTree(tree, { runIds, artifactRoot: './mlruns' });
  await tree.write('README.md', utf8.encode(EXPORT_README));
  const files: Zippable = {};
  for (const [path, bytes] of tree.files) files[`mlruns/${path}`] = [bytes, { level: /\.(png|zip|gz|hlckpt|bin)$/i.test(path) ? 0 : 6 }];
  return { bytes: zipSync(files, { mtime: new Date('2026-01-01T00:00:00Z') }), ...counts };
}

/** A zip's FileStore tree in memory (the top `mlruns/` or single top folder is stripped). */
export function treeFromZip(bytes: Uint8Array, file: string): MemoryTree {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new InputError(`not a readable zip: ${(e as Error).message}`, file);
  }
  const paths = Object.keys(entries).filter((p) => !p.endsWith('/'));
  if (paths.length === 0) throw new InputError('the zip is empty', file);
  const tops = new Set(paths.map((p) => p.split('/')[0]));
  const hasTopExperiments = paths.some((p) => /^[^/]+\/meta\.yaml$/.test(p));
  let strip = '';
  if (!hasTopExperiments && tops.size === 1) strip = `${[...tops][0]}/`;
  else if (!hasTopExperiments && tops.has('mlruns')) strip = 'mlruns/';
  const tree = new MemoryTree();
  for (const p of paths) {
    if (strip && !p.startsWith(strip)) continue;
    const rel = p.slice(strip.length);
    if (rel.split('/').some((s) => s === '..' || s === '.' || s === '')) continue; // never climb out
    void tree.write(rel, entries[p]);
  }
  return tree;
}
