/**
 * Shared CLI plumbing: argument parsing, JSON input (stdin or --in FILE), JSON output, and the
 * one-line error contract (stderr, non-zero exit). Commands throw InputError for bad input.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../src/core/errors.ts';
import type { JobContext } from '../src/core/jobs.ts';

export interface CommandDef {
  /** "surface inspect", "price" … (space-separated for sub-commands). */
  name: string;
  summary: string;
  /** Usage lines shown by `--help`. */
  usage: string;
  /**
   * Runs the command. The returned value is printed as JSON on stdout (undefined prints
   * nothing). Progress goes to stderr through ctx.onProgress when --progress is given.
   */
  run(argv: string[], ctx: JobContext): Promise<unknown>;
  /**
   * NaN in this command's result means "no value" by design and prints as null (e.g. `iv` where a
   * price has no implied vol, with the reason beside it). Without it, any non-finite number in a
   * result is an error (exit 1): no command prints a NaN metric with exit 0.
   */
  nonFiniteAsNull?: boolean;
}

/**
 * `--n -5` would read as two flags to parseArgs ("argument is ambiguous"); a value-taking flag
 * followed by a negative number is joined as `--n=-5`, so the command's own check can say
 * "--n must be a positive integer" instead.
 */
function joinNegativeValues(argv: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals, strict: true });
  } catch (e) {
    throw new InputError((e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

/** A file's bytes; an unreadable one is an InputError naming the file and the errno code (ENOENT …). */
export function readBytes(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
}

/**
 * Writes to a temporary file and renames it, so an interrupted run never leaves half a file
 * (rename is atomic within one folder); creates the folder first.
 */
export async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file) || '.', { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/** writeAtomic for synchronous commands; the folder must exist. */
export function writeAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** JSON from --in FILE, or from stdin when no file is given. */
export function readJsonInput(file: string | undefined): unknown {
  const where = file ?? 'stdin';
  let text: string;
  try {
    text = readFileSync(file ?? 0, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read input: ${(e as Error).message}`, where);
  }
  if (!text.trim()) throw new InputError('no JSON input (pass --in FILE or pipe JSON on stdin)', where);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message}`, where);
  }
}

export function requireOption<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new InputError(`missing required option ${flag}`);
  return value;
}

export function intOption(value: string | undefined, flag: string, dflt?: number): number {
  if (value === undefined) {
    if (dflt === undefined) throw new InputError(`missing required option ${flag}`);
    return dflt;
  }
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InputError(`${flag} must be an integer, got "${value}"`);
  return n;
}

/** A whole number ≥ 1 (counts: --n, --steps, --epochs …). */
export function positiveIntOption(value: string | undefined, flag: string, dflt?: number): number {
  const n = value === undefined ? intOption(value, flag, dflt) : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

export function numberOption(value: string | undefined, flag: string, dflt?: number): number {
  if (value === undefined) {
    if (dflt === undefined) throw new InputError(`missing required option ${flag}`);
    return dflt;
  }
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InputError(`${flag} must be a number, got "${value}"`);
  return n;
}
