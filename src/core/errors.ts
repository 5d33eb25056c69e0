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
