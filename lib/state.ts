// PLACEHOLDER: replaced by processState().
export interface ThreadCapabilities { x?: never }
export interface ThreadState { tid: number }
export interface ProcessState { threads: ThreadState[] }
export function processState(): ProcessState { return { threads: [] }; }
