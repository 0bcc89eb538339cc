// The doors Node opens on a signal. Once the drop changes a thread's uid, every process of the
// target user may signal this one (the kernel allows same-uid signals to a process holding
// capabilities), so by default the drop closes each door first; keepDebugSignals keeps them.
// What each door gives and what privdrop does about it: SECURITY.md, "Signal doors".
//   SIGUSR1                Node's handler starts the inspector: whoever connects runs code here.
//                          Closed natively (native/debug_signal.h), unless a JavaScript listener
//                          already replaced Node's handler.
//   --report-on-signal     a diagnostic report (the environment included) written to a file the
//                          target user can read: process.report.reportOnSignal = false.
//   --heapsnapshot-signal  the whole JavaScript heap written to such a file: its listener
//                          (doWriteHeapSnapshot in Node 18-24) is removed.
import { ErrorCodes, PrivdropError } from '../errors';
import { DropWarning, WARNING_CODES } from './root-equivalent';

/** A door Node opens on a signal, as the drop found it. */
export interface SignalDoor {
  /** The signal's name, e.g. 'SIGUSR1'. */
  signal: string;
  /** 'inspector' (SIGUSR1 starts Node's inspector), 'report' (--report-on-signal), 'heap-snapshot' (--heapsnapshot-signal). */
  door: 'inspector' | 'report' | 'heap-snapshot';
}

/** The name Node 18-24 give the --heapsnapshot-signal listener (lib/internal/process/pre_execution.js). */
const HEAP_SNAPSHOT_LISTENER = 'doWriteHeapSnapshot';

/** Signals that have a listener on process (read from the listeners, so the drop's path loads no os module). */
function signalNames(): string[] {
  return process.eventNames().filter((e): e is string => typeof e === 'string' && /^SIG[A-Z0-9]+$/.test(e));
}

/** Node's own --heapsnapshot-signal listeners, by signal. */
function heapSnapshotListeners(): Array<{ signal: string; listener: (...args: unknown[]) => void }> {
  const found: Array<{ signal: string; listener: (...args: unknown[]) => void }> = [];
  for (const signal of signalNames()) {
    for (const listener of process.listeners(signal as NodeJS.Signals)) {
      if (listener.name === HEAP_SNAPSHOT_LISTENER) found.push({ signal, listener: listener as (...args: unknown[]) => void });
    }
  }
  return found;
}

/** Whether node was started with a flag, on its command line or in NODE_OPTIONS (`_` and `-` alike, as node reads them). */
function startedWith(flag: string): boolean {
  const pattern = new RegExp(`^--${flag.replace(/-/g, '[-_]')}(=|$)`);
  const fromEnv = (process.env.NODE_OPTIONS ?? '').split(/\s+/).map((t) => t.replace(/^["']/, ''));
  return [...process.execArgv, ...fromEnv].some((t) => pattern.test(t));
}

/** True when no JavaScript listener replaced Node's SIGUSR1 handler (the native side sees only "a handler"). */
export function inspectorSignalUnhandled(): boolean {
  return process.listenerCount('SIGUSR1') === 0;
}

/**
 * What cannot be closed, as a coded error before anything changes: node was started with
 * --heapsnapshot-signal and its listener is not where Node 18-24 put it.
 */
export function checkSignalDoors(keep: boolean): void {
  if (keep || !startedWith('heapsnapshot-signal') || heapSnapshotListeners().length > 0) return;
  throw new PrivdropError(
    ErrorCodes.OPEN_SIGNAL_DOOR,
    `node was started with --heapsnapshot-signal, and privdrop cannot find its listener (${HEAP_SNAPSHOT_LISTENER}) to remove it: after the drop ` +
      'every process of the target user could have this one write its whole heap to a file it can read. Start node without ' +
      '--heapsnapshot-signal, or pass keepDebugSignals: true (--keep-debug-signals) if that is what you want',
    { step: 'validate' },
  );
}

/** Takes a closed door's signal: it was caught while the door was open, and must not start to kill the process now. */
function privdropClosedSignalDoor(): void {}

/**
 * Closes the JavaScript doors (report, heap snapshot) and returns them with a function that opens
 * them again, for a drop that then throws with nothing changed.
 */
export function closeJavaScriptDoors(): { closed: SignalDoor[]; reopen: () => void } {
  const closed: SignalDoor[] = [];
  const undo: Array<() => void> = [];
  const keepCaught = (signal: string) => {
    if (process.listenerCount(signal) > 0) return;
    process.on(signal, privdropClosedSignalDoor);
    undo.push(() => process.removeListener(signal, privdropClosedSignalDoor));
  };
  // process.report loads Node's report module on first read; until something has loaded it
  // (--report-on-signal does at start-up), no report can be set to be written on a signal. Where
  // the module list is missing (not Node), the report is read.
  const modules = (process as { moduleLoadList?: string[] }).moduleLoadList;
  const report = !modules || modules.includes('NativeModule internal/process/report') ? process.report : undefined;
  if (report && report.reportOnSignal) {
    const signal = report.signal;
    report.reportOnSignal = false; // removes Node's listener from report.signal
    closed.push({ signal, door: 'report' });
    undo.push(() => {
      report.reportOnSignal = true;
    });
    keepCaught(signal);
  }
  for (const { signal, listener } of heapSnapshotListeners()) {
    process.removeListener(signal, listener);
    closed.push({ signal, door: 'heap-snapshot' });
    undo.push(() => process.on(signal, listener));
    keepCaught(signal);
  }
  return { closed, reopen: () => undo.reverse().forEach((f) => f()) };
}

/** The overflow uid that user `nobody` has on Linux, shared by every daemon that runs as nobody. */
const NOBODY_UID = 65534;

/**
 * Kept doors with a user many processes run as: each of them can open the doors (the remedy is a
 * dedicated user). Only with keepDebugSignals: closed doors leave them killing or stopping the
 * process, which SECURITY.md describes.
 */
export function sharedUserWarning(keep: boolean, uid: number, name: string | undefined): DropWarning | undefined {
  if (!keep || (uid !== NOBODY_UID && name !== 'nobody')) return undefined;
  const who = name ? `${name} (uid ${uid})` : `uid ${uid}`;
  return {
    code: WARNING_CODES.SHARED_USER,
    subject: String(uid),
    message:
      `user ${who} is shared by many processes, and keepDebugSignals keeps the doors Node opens on a signal: any process running as ${who} ` +
      'can open the inspector in this one (SIGUSR1) and run code with the kept capabilities. Run the server as a user of its own',
  };
}
