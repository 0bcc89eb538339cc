// PLACEHOLDER: replaced by the CapabilitySet implementation.
import { binding, RawMasks } from './binding';
export type CapabilityFlag = 'effective' | 'permitted' | 'inheritable';
export type CapabilityName = string;
export class CapabilitySet {
  private constructor(private readonly raw: RawMasks) {}
  static parse(text: string): CapabilitySet { return new CapabilitySet(binding().capFromText(text)); }
  static fromMasks(m: RawMasks): CapabilitySet { return new CapabilitySet({ ...m }); }
  get masks(): RawMasks { return { ...this.raw }; }
  toString(): string { return binding().capToText(this.raw); }
}
export function capabilityNames(): CapabilityName[] { return []; }
