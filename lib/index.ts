export { CapabilitySet, capabilityNames } from './capabilities';
export type { CapabilityFlag, CapabilityName } from './capabilities';
export { processState } from './state';
export type { ProcessState, ThreadState, ThreadCapabilities } from './state';
export { dropPrivileges } from './drop';
export type { DropOptions, DropResult } from './drop';
export { PrivdropError, ErrorCodes } from './errors';
export type { ErrorCode } from './errors';
