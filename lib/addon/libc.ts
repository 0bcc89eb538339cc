// Which C library the running node uses, read from the ELF program interpreter (PT_INTERP) of
// its own executable: /lib64/ld-linux-x86-64.so.2 or /lib/ld-linux-aarch64.so.1 is glibc,
// /lib/ld-musl-*.so.1 is musl. One open and one 4 KiB read, no child process, no
// process.report (which costs milliseconds per call and per Worker). Unlike a look at
// /etc/alpine-release or /usr/bin/ldd, it describes this process, not the distribution: a
// glibc node copied onto Alpine with gcompat, or a musl node on Debian, is seen as it is.
import fs = require('fs');

export type Libc = 'glibc' | 'musl' | 'unknown';

const PT_INTERP = 3;

/**
 * The program interpreter named in an ELF file's first bytes, or null (static, or not ELF).
 * Read through a DataView: its getters are built into V8, where Buffer's readUInt32LE() and the
 * like are JavaScript that a fresh process compiles on first use (about 0.5 ms of the first drop).
 */
export function elfInterpreter(head: Uint8Array): string | null {
  if (head.length < 64) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  if (view.getUint32(0) !== 0x7f454c46) return null; // "\x7fELF"
  const is64 = head[4] === 2;
  const little = head[5] === 1;
  const u16 = (o: number) => view.getUint16(o, little);
  const u32 = (o: number) => view.getUint32(o, little);
  const word = (o: number) => (is64 ? Number(view.getBigUint64(o, little)) : u32(o));
  const phoff = word(is64 ? 0x20 : 0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + phentsize > head.length) return null;
    if (u32(ph) !== PT_INTERP) continue;
    const offset = word(ph + (is64 ? 0x08 : 0x04));
    const size = word(ph + (is64 ? 0x20 : 0x10));
    if (offset + size > head.length || size < 2) return null;
    let text = '';
    for (let k = offset; k < offset + size && head[k] !== 0; k++) text += String.fromCharCode(head[k]); // latin1
    return text;
  }
  return null;
}

/** glibc or musl from an interpreter path; 'unknown' for anything else. */
export function libcOfInterpreter(interpreter: string | null): Libc {
  if (!interpreter) return 'unknown';
  const base = interpreter.slice(interpreter.lastIndexOf('/') + 1);
  if (base.startsWith('ld-musl-')) return 'musl';
  if (base.startsWith('ld-linux') || base === 'ld64.so.2' || base === 'ld64.so.1') return 'glibc';
  return 'unknown';
}

/** The C library of the executable at `file` (default: this node). Never throws. */
export function detectLibc(file: string = process.execPath): Libc {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = new Uint8Array(4096);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    return libcOfInterpreter(elfInterpreter(head.subarray(0, n)));
  } catch {
    return 'unknown';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
