// PLACEHOLDER: replaced by dropPrivileges().
export interface DropOptions { user: string | number }
export interface DropResult { uid: number }
export function dropPrivileges(_options: DropOptions): DropResult { throw new Error('not yet'); }
