// require('privdrop') loads only what every caller needs: the error class (no addon, no
// worker_threads). CapabilitySet loads on first read too: it is most of what require() cost. The drop, /proc reading, formatting and config reading load when
// their export is first read. Each lazy export is a getter of the one form Node's cjs-module-lexer
// recognises (`get: function () { return lazy.name; }`), so named imports from ES modules work
// (test/esm.test.ts); an ES module import reads every export and so loads them all.
import type * as Config from './config';
import type * as Drop from './drop';
import type * as Listen from './runtime/listen';
import type * as Runtime from './runtime';
import type * as Format from './state/format';
import type * as Json from './state/json';
import type * as Read from './state/read';

import type * as Capabilities from './capabilities';
export type { CapabilityFlag, CapabilityName, KnownCapabilityName, CapabilityMasks, CapabilitySetJSON } from './capabilities';
export type { ProcessState, ThreadState, ThreadCapabilities, CapabilityMask, IdSet, Securebits, StateDifference, ConsistencyField } from './state/read';
export type { DropOptions, DropResult, ResolvedDrop, BroadcastTiming, Id, DropWarning, SignalDoor } from './drop';
export { PrivdropError, ErrorCodes } from './errors';
import { loadPart } from './errors';
export type { ErrorCode } from './errors';
export type { SecurityConfig } from './config';
export type { CapabilitiesArgument, SetCapabilitiesOptions, SetCapabilitiesResult, CapabilityWindow } from './runtime';
export type { ListenOptions, ListenableApp, ReadyServer, ServerLike } from './runtime/listen';
export type { JSONForm, ProcessStateJSON } from './state/json';

/* eslint-disable @typescript-eslint/no-var-requires */
let runtime: typeof Runtime | undefined;
let capabilities: typeof Capabilities | undefined;
const lazy = {
  // Kept once loaded, like the runtime below: privdrop.CapabilitySet may be read on every call.
  get CapabilitySet() {
    return (capabilities ??= loadPart(() => require('./capabilities') as typeof Capabilities, 'capabilities/index')).CapabilitySet;
  },
  get capabilityNames() {
    return (capabilities ??= loadPart(() => require('./capabilities') as typeof Capabilities, 'capabilities/index')).capabilityNames;
  },
  get dropPrivileges() {
    return loadPart(() => require('./drop') as typeof Drop, 'drop/index').dropPrivileges;
  },
  get resolveDropOptions() {
    return loadPart(() => require('./drop') as typeof Drop, 'drop/index').resolveDropOptions;
  },
  get processState() {
    return loadPart(() => require('./state/read') as typeof Read, 'state/read').processState;
  },
  get formatProcessState() {
    return loadPart(() => require('./state/format') as typeof Format, 'state/format').formatProcessState;
  },
  get loadSecurityConfig() {
    return loadPart(() => require('./config') as typeof Config, 'config/index').loadSecurityConfig;
  },
  get parseSecurityConfig() {
    return loadPart(() => require('./config') as typeof Config, 'config/index').parseSecurityConfig;
  },
  // Kept once loaded: withCapabilities() may be called often, and require() costs microseconds.
  get setCapabilities() {
    return (runtime ??= loadPart(() => require('./runtime') as typeof Runtime, 'runtime/index')).setCapabilities;
  },
  get withCapabilities() {
    return (runtime ??= loadPart(() => require('./runtime') as typeof Runtime, 'runtime/index')).withCapabilities;
  },
  get listen() {
    return loadPart(() => require('./runtime/listen') as typeof Listen, 'runtime/listen').listen;
  },
  get processStateFromJSON() {
    return loadPart(() => require('./state/json') as typeof Json, 'state/json').processStateFromJSON;
  },
};
/* eslint-enable @typescript-eslint/no-var-requires */

/** A set of capabilities: parse libcap text, compare, combine, format (lib/capabilities/index.ts). */
export declare const CapabilitySet: typeof Capabilities.CapabilitySet;
export type CapabilitySet = Capabilities.CapabilitySet;
Object.defineProperty(exports, 'CapabilitySet', { enumerable: true, get: function () { return lazy.CapabilitySet; } });
/** Every capability name this kernel and libcap know, in number order (lib/capabilities/index.ts). */
export declare const capabilityNames: typeof Capabilities.capabilityNames;
Object.defineProperty(exports, 'capabilityNames', { enumerable: true, get: function () { return lazy.capabilityNames; } });

/** Become the user and group on every thread, keeping exactly the named capabilities (lib/drop/index.ts). */
export declare const dropPrivileges: typeof Drop.dropPrivileges;
Object.defineProperty(exports, 'dropPrivileges', { enumerable: true, get: function () { return lazy.dropPrivileges; } });

/** Checks and resolves options without changing anything: what dropPrivileges() would do (lib/drop/index.ts). */
export declare const resolveDropOptions: typeof Drop.resolveDropOptions;
Object.defineProperty(exports, 'resolveDropOptions', { enumerable: true, get: function () { return lazy.resolveDropOptions; } });

/** Every thread's credentials as /proc/self/task reports them (lib/state/read.ts). */
export declare const processState: typeof Read.processState;
Object.defineProperty(exports, 'processState', { enumerable: true, get: function () { return lazy.processState; } });

/** The aligned text form of a processState() result, as privdrop show prints it (lib/state/format.ts). */
export declare const formatProcessState: typeof Format.formatProcessState;
Object.defineProperty(exports, 'formatProcessState', { enumerable: true, get: function () { return lazy.formatProcessState; } });

/** Reads dropPrivileges() options from a JSON file or a Security { } stanza, or from layered files ([base, override]: later keys win, key by key) (lib/config/). */
export declare const loadSecurityConfig: typeof Config.loadSecurityConfig;
Object.defineProperty(exports, 'loadSecurityConfig', { enumerable: true, get: function () { return lazy.loadSecurityConfig; } });

/** Parses configuration text (JSON or a Security stanza) into options (lib/config/). */
export declare const parseSecurityConfig: typeof Config.parseSecurityConfig;
Object.defineProperty(exports, 'parseSecurityConfig', { enumerable: true, get: function () { return lazy.parseSecurityConfig; } });

/** The process-wide cap_set_proc: every thread, verified; lowers only (lib/runtime/index.ts). */
export declare const setCapabilities: typeof Runtime.setCapabilities;
Object.defineProperty(exports, 'setCapabilities', { enumerable: true, get: function () { return lazy.setCapabilities; } });

/** Raises permitted capabilities on the calling thread for one synchronous call (lib/runtime/index.ts). */
export declare const withCapabilities: typeof Runtime.withCapabilities;
Object.defineProperty(exports, 'withCapabilities', { enumerable: true, get: function () { return lazy.withCapabilities; } });

/** Binds a server with cap_net_bind_service raised for the bind only (lib/runtime/listen.ts). */
export declare const listen: typeof Listen.listen;
Object.defineProperty(exports, 'listen', { enumerable: true, get: function () { return lazy.listen; } });
/** A processState() result from its JSON: masks are bigints again (lib/state/json.ts). */
export declare const processStateFromJSON: typeof Json.processStateFromJSON;
Object.defineProperty(exports, 'processStateFromJSON', { enumerable: true, get: function () { return lazy.processStateFromJSON; } });
