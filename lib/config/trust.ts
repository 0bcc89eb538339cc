// Config files decide what root keeps, so they are read only if nobody but root (or the user
// running privdrop) could have written them, as sshd's StrictModes does: the file and every
// directory on the way to it, symlinks followed, must be owned by root or by us and not be
// writable by group or others. A directory others may write is accepted only with the sticky
// bit (/tmp), and then the entry in it must be ours (others cannot rename or remove it).
// A root-owned character device (/dev/null) is read as it is: writing to it changes nothing read.
import * as fs from 'fs';
import * as nodePath from 'path';
import { ErrorCodes, PrivdropError } from '../errors';

const S_ISVTX = 0o1000;

function trustedOwners(): Set<number> {
  return new Set([0, process.geteuid ? process.geteuid() : 0]);
}

function ownerName(uid: number): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { binding } = require('../addon/binding') as typeof import('../addon/binding');
    const entry = binding().lookupUser(uid);
    return entry ? `${uid} (${entry.name})` : String(uid);
  } catch {
    return String(uid);
  }
}

const modeText = (st: fs.Stats) => `0${(st.mode & 0o7777).toString(8).padStart(3, '0')}`;

function unsafe(config: string, where: string, st: fs.Stats, why: string): PrivdropError {
  const what = where === config ? `config file ${config}` : `config file ${config}: ${where}`;
  return new PrivdropError(
    ErrorCodes.UNSAFE_CONFIG,
    `${what} (owner ${ownerName(st.uid)}, mode ${modeText(st)}) ${why}; refusing to read it (it decides what root keeps). ` +
      'Make it, and every directory above it, owned by root and not writable by group or others',
    { path: config },
  );
}

/** Checks what the file itself must be (also on the opened descriptor). */
export function checkTrustedFile(config: string, where: string, st: fs.Stats): void {
  const trusted = trustedOwners();
  if (!trusted.has(st.uid)) throw unsafe(config, where, st, 'is owned by a user other than root');
  if (st.isCharacterDevice()) return;
  if (st.mode & 0o022) throw unsafe(config, where, st, `is writable by ${st.mode & 0o020 ? 'its group' : 'others'}`);
}

/**
 * Walks `config` from / one name at a time, following symlinks, and throws ERR_PRIVDROP_UNSAFE_CONFIG
 * (naming the file or directory, its owner and mode) at the first place another user could have
 * changed. Names that do not exist are left for the reader to report.
 */
export function checkConfigTrust(config: string): void {
  const trusted = trustedOwners();
  let pending = nodePath.resolve(config).split('/').filter(Boolean);
  let dir = '/';
  let dirOpen = false; // dir is writable by others, with the sticky bit
  const checkDir = (p: string, st: fs.Stats) => {
    if (!trusted.has(st.uid)) throw unsafe(config, `directory ${p}`, st, 'is owned by a user other than root');
    dirOpen = false;
    if (st.mode & 0o022) {
      if (!(st.mode & S_ISVTX)) throw unsafe(config, `directory ${p}`, st, `is writable by ${st.mode & 0o020 ? 'its group' : 'others'}`);
      dirOpen = true;
    }
  };
  let st: fs.Stats;
  try {
    st = fs.statSync('/');
  } catch {
    return;
  }
  checkDir('/', st);
  let hops = 0;
  while (pending.length) {
    const name = pending.shift() as string;
    if (name === '.') continue;
    if (name === '..') {
      dir = nodePath.dirname(dir);
      try {
        checkDir(dir, fs.statSync(dir));
      } catch (e) {
        if (e instanceof PrivdropError) throw e;
        return;
      }
      continue;
    }
    const p = nodePath.join(dir, name);
    try {
      st = fs.lstatSync(p);
    } catch {
      return; // missing or unreadable: the reader reports it
    }
    if (dirOpen && !trusted.has(st.uid)) {
      throw unsafe(config, st.isSymbolicLink() ? `symlink ${p}` : p === nodePath.resolve(config) ? config : `directory ${p}`, st, `is owned by another user in ${dir}, a directory others can write`);
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) return;
      const target = fs.readlinkSync(p);
      // /proc/<pid>/fd/N names a pipe or socket (--config <(...)): the opened descriptor is checked.
      if (p.startsWith('/proc/') && !target.startsWith('/')) return;
      if (target.startsWith('/')) {
        dir = '/';
        dirOpen = false;
        checkDir('/', fs.statSync('/'));
      }
      pending = [...target.split('/').filter(Boolean), ...pending];
      continue;
    }
    if (pending.length) {
      if (!st.isDirectory()) return; // ENOTDIR: the reader reports it
      checkDir(p, st);
      dir = p;
    } else {
      checkTrustedFile(config, p === nodePath.resolve(config) ? config : p, st);
    }
  }
}
