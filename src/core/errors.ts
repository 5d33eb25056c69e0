/**
 * Errors a user can act on. `where` names the file, field, row or column at fault, so a message
 * reads "surface.npz: iv_surface: row 3, column 2: vol is NaN" rather than "invalid input".
 */
export class LabError extends Error {
  readonly where: string | undefined;
  constructor(message: string, where?: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'LabError';
    this.where = where;
  }
}

/** Bad user input (file contents, CLI arguments, JSON fields). */
export class InputError extends LabError {
  constructor(message: string, where?: string) {
    super(message, where);
    this.name = 'InputError';
  }
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * An error's message for a line that already names `subject` (a file): "a.csv: ✗ a.csv: row 3 …"
 * read twice, so a leading "subject: " (what InputError(msg, file) puts there) is dropped. The
 * line is then built once, as `${subject}: ${errorMessageAbout(e, subject)}`.
 */
export function errorMessageAbout(e: unknown, subject: string): string {
  const m = errorMessage(e);
  return subject && m.startsWith(`${subject}: `) ? m.slice(subject.length + 2) : m;
}
