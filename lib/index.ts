export { CapabilitySet, capabilityNames } from './capabilities';
export type { CapabilityFlag, CapabilityName } from './capabilities';
export { processState } from './state';
export type { ProcessState, ThreadState, ThreadCapabilities } from './state';
export { dropPrivileges, resolveDropOptions } from './drop';
export type { DropOptions, DropResult, ResolvedDrop, BroadcastTiming, Id } from './drop';
export { PrivdropError, ErrorCodes } from './errors';
export type { ErrorCode } from './errors';
