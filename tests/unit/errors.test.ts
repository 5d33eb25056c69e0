/**
 * Import errors name the file once (issue 15 item 10): the line "a.csv: …" is built from the
 * file's name and errorMessageAbout, which drops the "a.csv: " an InputError already starts with.
 */
import { describe, expect, it } from 'vitest';
import { errorMessageAbout, InputError } from '../../src/core/errors.ts';
import { parseSurfaceBytes } from '../../src/core/surface/files.ts';

describe('errorMessageAbout', () => {
  it('drops the subject an InputError already names, keeps the rest', () => {
    const e = new InputError('row 3: vol is NaN', 'quotes.csv');
    expect(e.message).toBe('quotes.csv: row 3: vol is NaN');
    expect(errorMessageAbout(e, 'quotes.csv')).toBe('row 3: vol is NaN');
    // Another subject, or a message that merely mentions the file later, is left whole.
    expect(errorMessageAbout(e, 'other.csv')).toBe('quotes.csv: row 3: vol is NaN');
    expect(errorMessageAbout(new Error('cannot read quotes.csv: too big'), 'quotes.csv')).toBe('cannot read quotes.csv: too big');
    expect(errorMessageAbout('plain text', 'x')).toBe('plain text');
  });
  it('a real reader error, shown as the import list shows it, names the file once', () => {
    let line = '';
    let raw = '';
    try {
      parseSurfaceBytes(new TextEncoder().encode('strike,iv\nabc,def\n'), 'bad.csv');
    } catch (e) {
      raw = (e as Error).message;
      line = `bad.csv: ${errorMessageAbout(e, 'bad.csv')}`;
    }
    expect(raw).toMatch(/^bad\.csv: row 2/); // the reader names the file itself …
    expect(line).toMatch(/^bad\.csv: row 2/); // … and the list line still names it once
    expect(line.split('bad.csv').length - 1).toBe(1);
  });
});
