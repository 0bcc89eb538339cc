export function statusFields(text: string): Record<string, string>;
export function statusOfFile(file: string): Record<string, string>;
export function readStatus(file: string): string | null;
export function threadStatuses(pid?: number | 'self'): { tid: number; fields: Record<string, string> }[];
/** This module's file, for scenario children to require. */
export const procStatusModule: string;
