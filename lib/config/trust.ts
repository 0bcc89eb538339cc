// Config files decide what root keeps, so they are read only if nobody but root (or the user
// running privdrop) could have written them, as sshd's StrictModes does: the file and every
// directory on the way to it, symlinks followed, must be owned by root or by us and not be
// writable by group or others. A directory others may write is accepted only with the sticky
// bit (/tmp), and then the entry in it must be ours (others cannot rename or remove it).
// Two walks: the name as given (checkConfigTrust: symlinks and the directories they are in), and
// where the opened descriptor really is (checkOpenedConfig), which a /proc/self/root/... or
// /proc/self/cwd/... name would otherwise hide. Only a regular file is read (fileKind).
import fs = require('fs');
import nodePath = require('path');
import { ErrorCodes, PrivdropError } from '../errors';

const S_ISVTX = 0o1000;
// Not in fs.constants; the same value on x86_64 and arm64 (asm-generic/fcntl.h).
const O_PATH = 0o10000000;

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
  if (st.mode & 0o022) throw unsafe(config, where, st, `is writable by ${st.mode & 0o020 ? 'its group' : 'others'}`);
}

/**
 * Throws ERR_PRIVDROP_UNSAFE_CONFIG for a directory another user could change; returns whether
 * others may write it (sticky: then each entry in it must be trusted).
 */
function checkDirectory(config: string, p: string, st: fs.Stats, trusted: Set<number>): boolean {
  if (!trusted.has(st.uid)) throw unsafe(config, `directory ${p}`, st, 'is owned by a user other than root');
  if (!(st.mode & 0o022)) return false;
  if (!(st.mode & S_ISVTX)) throw unsafe(config, `directory ${p}`, st, `is writable by ${st.mode & 0o020 ? 'its group' : 'others'}`);
  return true;
}

/** What a file that is not a regular one is, and why it is not read; undefined for a regular file. */
export function notRegularFile(st: fs.Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isFIFO()) {
    return 'is a pipe or FIFO, not a regular file (--config /dev/stdin, <(...) and named pipes are not read: nothing says who wrote into one, and reading it can block for ever)';
  }
  const kind = st.isDirectory() ? 'a directory' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';
  return `is ${kind}${kind.startsWith('not') ? '' : ', not a regular file'}`;
}

function cannotWalk(config: string, why: string): PrivdropError {
  return new PrivdropError(
    ErrorCodes.UNSAFE_CONFIG,
    `config file ${config}: ${why}, so the directories above it cannot be checked; refusing to read it (it decides what root keeps). ` +
      'Name it by its own path, in directories owned by root and not writable by group or others',
    { path: config },
  );
}

/**
 * Walks where the opened descriptor `fd` really is (its /proc/self/fd link), one directory at a
 * time through descriptors (each name is looked up in the directory just checked, so a rename
 * cannot swap another in between), and throws ERR_PRIVDROP_UNSAFE_CONFIG unless every directory
 * is trusted and the name at the end is the very file that was opened. `st` is fstat(fd).
 */
export function checkOpenedConfig(config: string, fd: number, st: fs.Stats): void {
  let real: string;
  try {
    real = fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch (e) {
    throw cannotWalk(config, `where the opened file is cannot be read from /proc/self/fd (${(e as NodeJS.ErrnoException).code}; is /proc mounted?)`);
  }
  const names = real.startsWith('/') ? real.split('/').filter(Boolean) : [];
  if (names.length === 0) throw cannotWalk(config, `the opened file is ${JSON.stringify(real)}, not a name in a directory`);
  const moved = (what: string) => cannotWalk(config, `the opened file is ${real}, but ${what} (moved or deleted)`);
  const opened = fs.fstatSync(fd, { bigint: true });
  const trusted = trustedOwners();
  let dirFd = fs.openSync('/', O_PATH | fs.constants.O_DIRECTORY);
  try {
    let dir = '/';
    let open = checkDirectory(config, dir, fs.fstatSync(dirFd), trusted);
    for (const [i, name] of names.entries()) {
      const p = nodePath.join(dir, name);
      const at = `/proc/self/fd/${dirFd}/${name}`;
      if (i === names.length - 1) {
        let entry: fs.BigIntStats;
        try {
          entry = fs.lstatSync(at, { bigint: true });
        } catch {
          throw moved(`${p} no longer exists`);
        }
        if (entry.dev !== opened.dev || entry.ino !== opened.ino) throw moved(`${p} is another file now`);
        if (open && !trusted.has(st.uid)) throw unsafe(config, p, st, `is owned by another user in ${dir}, a directory others can write`);
        checkTrustedFile(config, p === config ? config : p, st);
        return;
      }
      let next: number;
      try {
        next = fs.openSync(at, O_PATH | fs.constants.O_NOFOLLOW);
      } catch {
        throw moved(`${p} no longer exists`);
      }
      fs.closeSync(dirFd);
      dirFd = next;
      const dst = fs.fstatSync(dirFd);
      if (!dst.isDirectory()) throw moved(`${p} is no longer a directory`);
      if (open && !trusted.has(dst.uid)) throw unsafe(config, `directory ${p}`, dst, `is owned by another user in ${dir}, a directory others can write`);
      open = checkDirectory(config, p, dst, trusted);
      dir = p;
    }
  } finally {
    fs.closeSync(dirFd);
  }
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
    dirOpen = checkDirectory(config, p, st, trusted);
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
      // /proc/self, /proc/<pid>/fd/N (pipe:[...]): not a path to follow; checkOpenedConfig walks where the opened file is.
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
    } else if (st.isFile()) {
      checkTrustedFile(config, p === nodePath.resolve(config) ? config : p, st);
    } // else: not a regular file, which the reader refuses as such
  }
}
