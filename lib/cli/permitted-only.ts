// `privdrop exec --permitted-only CAPS`: COMMAND starts with CAPS permitted but not effective,
// and raises them itself (privdrop's withCapabilities()/listen() in a Node program, cap_set_proc
// in C) only when it needs them.
//
// The kernel decides what an exec'd program gets (capabilities(7), "Transformation of
// capabilities during execve()"): for a non-root process,
//   P'(permitted) = (P(inheritable) & F(inheritable)) | (F(permitted) & P(bounding)) | P'(ambient)
//   P'(effective) = F(effective) ? P'(permitted) : P'(ambient)
// so a capability in the ambient set is always effective in COMMAND, and the only way to hand
// one over permitted-only is the process's inheritable set AND the inheritable set of COMMAND's
// file (`setcap cap_net_bind_service+i /usr/bin/node`), with the file's effective bit off.
// privdrop therefore keeps CAPS permitted and inheritable, not ambient, and checks COMMAND's
// file before anything changes.
import fs = require('fs');
import path = require('path');
import { CapabilityName, CapabilitySet } from '../capabilities';
import { binding } from '../addon/binding';

/** The options of the drop with `names` kept permitted and inheritable only (not effective, no ambient). */
export function permittedOnlyCapabilities(base: CapabilitySet, names: readonly CapabilityName[]): CapabilitySet {
  return base.with(names, 'pi').without(names, 'e');
}

const MAX_INTERPRETERS = 4; // the kernel allows a few levels of #! as well

/**
 * The program file the kernel will load for `file`: `file` itself, or for a `#!` script its
 * interpreter (and for `#!/usr/bin/env NAME`, NAME looked up in `searchPath`). Paths are inside
 * `root` ('/' without a chroot). Returns the host path.
 */
export function programFile(file: string, root: string, searchPath: string): string {
  let current = file;
  for (let level = 0; level <= MAX_INTERPRETERS; level++) {
    const host = path.join(root, current);
    let head = '';
    try {
      const fd = fs.openSync(host, 'r');
      try {
        const buf = Buffer.alloc(256);
        head = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString('latin1');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return host;
    }
    if (!head.startsWith('#!')) return host;
    const words = head.slice(2).split('\n')[0].trim().split(/[ \t]+/);
    let next = words[0];
    if (path.basename(next) === 'env') {
      const name = words.slice(1).find((w) => !w.startsWith('-'));
      if (!name) return host;
      const found = name.includes('/')
        ? name
        : searchPath
            .split(':')
            .filter((d) => d.startsWith('/'))
            .map((d) => path.posix.join(d, name))
            .find((p) => fs.existsSync(path.join(root, p)));
      if (!found) return path.join(root, next);
      next = found;
    }
    current = next;
  }
  return path.join(root, current);
}

/**
 * Why the program file `hostFile` would not receive `names` permitted-only, or null when it would
 * (each one in the file's inheritable set, or its permitted set, and the effective bit off).
 */
export function permittedOnlyProblem(hostFile: string, names: readonly CapabilityName[]): string | null {
  const wanted = CapabilitySet.from(names, 'inheritable').masks.inheritable;
  const fileCaps = binding().capGetFile(hostFile);
  const text = CapabilitySet.fromMasks({ effective: wanted, permitted: 0n, inheritable: 0n }).effective.join(',');
  const fix = `setcap ${text}+i ${hostFile}`;
  if (fileCaps === null) {
    return (
      `${hostFile} has no file capabilities, so it would start without ${text}: the kernel hands a capability ` +
      `to an exec'd program permitted-only through the file's inheritable set. Mark it (as root): ${fix}`
    );
  }
  const missing = wanted & ~(fileCaps.inheritable | fileCaps.permitted);
  if (missing !== 0n) {
    const list = CapabilitySet.fromMasks({ effective: missing, permitted: 0n, inheritable: 0n }).effective.join(',');
    return `${hostFile}'s file capabilities lack ${list} in their inheritable set, so it would start without it. Add it (as root): ${fix}`;
  }
  if (fileCaps.effective !== 0n) {
    return (
      `${hostFile} has the file effective bit set, so it would start with ${text} in effect, not permitted-only. ` +
      `Clear it (as root): setcap ${text}+i ${hostFile}`
    );
  }
  return null;
}
