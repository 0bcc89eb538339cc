// Command-line parsing shared by the privdrop commands: GNU-style long options, `--opt value`
// or `--opt=value`, `--` ends the options.
import { didYouMean } from '../errors/suggest';

/** A mistake in how the command was called: exit status 2, with a pointer to --help. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  /** Takes a value (`--user nobody`), or is a flag (`--dry-run`). */
  value: boolean;
  /** May be given more than once (values are collected). */
  repeat?: boolean;
}

export interface ParsedArgs {
  /** Option name (without dashes) to its values; a flag has [''] per use. */
  options: Map<string, string[]>;
  /** Arguments that are not options, in order. */
  positional: string[];
  /** Everything after `--` or, when stopAtPositional, from the first non-option on. */
  rest: string[];
}

/**
 * `short` maps one-letter options to long names (`-h` to `help`). With stopAtPositional, the
 * first argument that is not an option ends the options (exec's COMMAND, as setpriv does).
 * `aliases` maps other spellings people type (not accepted) to the option meant, for the message.
 */
export function parseArgs(
  command: string,
  args: string[],
  specs: Record<string, OptionSpec>,
  opts: { short?: Record<string, string>; stopAtPositional?: boolean; aliases?: Record<string, string> } = {},
): ParsedArgs {
  const options = new Map<string, string[]>();
  const positional: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      i++;
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg) && opts.short?.[arg[1]]) {
      name = opts.short[arg[1]];
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg}`, command);
    } else {
      if (opts.stopAtPositional) break;
      positional.push(arg);
      continue;
    }
    const spec = Object.prototype.hasOwnProperty.call(specs, name) ? specs[name] : undefined;
    if (!spec) {
      // Another spelling of an option (the API's name, say) names the option; else the closest one.
      const alias = Object.prototype.hasOwnProperty.call(opts.aliases ?? {}, name) ? opts.aliases![name] : undefined;
      const known = Object.keys(specs).map((k) => `--${k}`);
      const hint = alias !== undefined ? ` (did you mean "--${alias}"?)` : didYouMean(`--${name}`, known);
      throw new UsageError(`unknown option --${name}${hint}`, command);
    }
    let value = '';
    if (spec.value) {
      if (inline !== undefined) value = inline;
      else if (i + 1 < args.length) value = args[++i];
      else throw new UsageError(`option --${name} needs a value`, command);
    } else if (inline !== undefined) {
      throw new UsageError(`option --${name} takes no value`, command);
    }
    const seen = options.get(name);
    if (seen && !spec.repeat) throw new UsageError(`option --${name} given twice`, command);
    options.set(name, [...(seen ?? []), value]);
  }
  return { options, positional, rest: args.slice(i) };
}

/** The value of a single-use option, or undefined. */
export function optionValue(parsed: ParsedArgs, name: string): string | undefined {
  return parsed.options.get(name)?.[0];
}

export function hasFlag(parsed: ParsedArgs, name: string): boolean {
  return parsed.options.has(name);
}
