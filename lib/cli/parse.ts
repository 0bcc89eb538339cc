// `privdrop parse TEXT`: libcap capability text read back as canonical text, names and masks.
import { CapabilitySet } from '../capabilities';
import { capabilityWarnings } from '../capabilities/options';
import { hasFlag, parseArgs, UsageError } from './args';

export const PARSE_HELP = `Usage: privdrop parse TEXT [--json]

Read capability text in libcap's grammar (cap_from_text(3)), e.g.
  privdrop parse 'cap_net_bind_service,cap_chown+ep cap_setuid+p'
and print its canonical text, the capability names in each set (effective, permitted,
inheritable) and each set as a 64-bit hex mask (bit n = capability n, as in /proc and
capsh --decode). Several arguments are joined with spaces into one text.

Options:
  --json       print JSON instead of text
  -h, --help   show this help

Text that libcap reads but dropPrivileges() and privdrop exec would refuse (effective
capabilities that are not permitted, capabilities past this system's last one) is printed
all the same, with a warning on stderr (and "warnings" in --json).

Exit status: 0; 1 if TEXT is not valid (the message names the bad clause and its offset);
2 for a usage error.
`;

const FLAGS = ['effective', 'permitted', 'inheritable'] as const;

export function runParse(args: string[], out: (s: string) => void, err: (s: string) => void = (s) => process.stderr.write(s)): number {
  const parsed = parseArgs('parse', args, { json: { value: false }, help: { value: false } }, { short: { h: 'help' } });
  if (hasFlag(parsed, 'help')) {
    out(PARSE_HELP);
    return 0;
  }
  const words = [...parsed.positional, ...parsed.rest];
  if (words.length === 0) throw new UsageError('no capability TEXT given', 'parse');
  const set = CapabilitySet.parse(words.join(' '));
  // Valid libcap text that the drop would still refuse: say so, on stderr (the status stays 0).
  const warnings = capabilityWarnings(set);
  for (const w of warnings) err(`privdrop parse: warning: ${w}\n`);
  const masks = set.masks;
  const hex = (m: bigint) => '0x' + m.toString(16).padStart(16, '0');
  if (hasFlag(parsed, 'json')) {
    const json: Record<string, unknown> = { text: set.toString() };
    for (const f of FLAGS) json[f] = { mask: hex(masks[f]), names: set[f] };
    if (warnings.length) json.warnings = warnings;
    out(JSON.stringify(json, null, 2) + '\n');
  } else {
    const lines = [`${'text'.padEnd(13)}${set.toString()}`];
    for (const f of FLAGS) lines.push(`${f.padEnd(13)}${hex(masks[f])}  ${set[f].length ? set[f].join(' ') : '(none)'}`);
    out(lines.join('\n') + '\n');
  }
  return 0;
}
