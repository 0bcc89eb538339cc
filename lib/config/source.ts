// A config file's text, and offsets in it turned into line and column for error messages.
import { ErrorCodes, PrivdropError } from '../errors';

/** A position in the file, both counted from 1 (column in UTF-16 code units). */
export interface Position {
  line: number;
  column: number;
}

export class Source {
  private readonly lineStarts: number[] = [0];

  constructor(readonly path: string, readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  position(offset: number): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo] + 1 };
  }

  error(offset: number, message: string): PrivdropError {
    const { line, column } = this.position(offset);
    return new PrivdropError(ErrorCodes.INVALID_CONFIG, `${this.path}:${line}:${column}: ${message}`, { path: this.path, line, column });
  }
}

/** One value read from the file, with where it starts. */
export interface Located {
  value: unknown;
  offset: number;
}

/** The keys of a file, each with its value, both located. */
export type Entries = Map<string, { key: Located; value: Located }>;

/** A character as a message names it. */
export function describeChar(c: string | undefined): string {
  if (c === undefined) return 'the end of the file';
  if (c === '\n') return 'the end of the line';
  return JSON.stringify(c);
}
