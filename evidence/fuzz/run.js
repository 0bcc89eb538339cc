'use strict';
// Runs targets with fast-check, in chunks, counting every failure (never stopping at the first),
// with the guards of oracle.js around them.
const fc = require('fast-check');
const { materialize } = require('./generators');
const { FuzzFailure, installTripwires, tripped, unclassifiedExports, prototypeSnapshot, stateSnapshot } = require('./oracle');
const { TARGETS } = require('./targets');

function describeInput(v) {
  try {
    const s = fc.stringify(v);
    return s.length > 400 ? `${s.slice(0, 400)}... (${s.length} chars)` : s;
  } catch {
    return '<unprintable>';
  }
}

/**
 * Runs `cases` cases of one target with fast-check (in chunks, so state is checked between them).
 * Never stops at the first failure: every failure is counted, the first few are kept. A target with
 * `async: true` returns a promise from run(); the cases still run one after another.
 */
async function runTarget(target, { cases, seed, chunk = 10000, progress, heartbeat, maxKept = 10 }) {
  const result = { name: target.name, cases: 0, failures: 0, examples: [], outcomes: {}, slowest: { ms: 0, input: '' }, ms: 0 };
  const protoBefore = prototypeSnapshot();
  const t0 = process.hrtime.bigint();
  for (let done = 0, part = 0; done < cases; part++) {
    const numRuns = Math.min(chunk, cases - done);
    const one = (input) => {
      const c0 = process.hrtime.bigint();
      const fail = (e) => {
        result.failures++;
        if (result.examples.length < maxKept) {
          result.examples.push({ reason: e instanceof FuzzFailure ? e.message : `harness: ${e && e.stack}`, input: describeInput(input), seed: seed + part });
        }
        return 'FAILURE';
      };
      const finish = (label) => {
        const ms = Number(process.hrtime.bigint() - c0) / 1e6;
        if (ms > result.slowest.ms) result.slowest = { ms, input: describeInput(input) };
        result.outcomes[label] = (result.outcomes[label] ?? 0) + 1;
        result.cases++;
        if (heartbeat) heartbeat();
        if (prototypeChanged(protoBefore)) {
          result.failures++;
          result.examples.push({ reason: 'prototype polluted', input: describeInput(input), seed: seed + part });
          restorePrototypes();
        }
        return true;
      };
      let label;
      try {
        label = target.run(materialize(input));
      } catch (e) {
        return finish(fail(e));
      }
      if (!target.async) return finish(label);
      return Promise.resolve(label).then(finish, (e) => finish(fail(e)));
    };
    const property = target.async ? fc.asyncProperty(target.arbitrary, one) : fc.property(target.arbitrary, one);
    const out = await fc.check(property, { numRuns, seed: seed + part });
    if (out.failed) throw new Error(`fast-check itself failed: ${out.errorInstance?.stack ?? 'unknown'}`);
    done += numRuns;
    if (progress) progress(target, done, cases);
  }
  result.ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return result;
}

let protoCount = Reflect.ownKeys(Object.prototype).length;
let arrayProtoCount = Reflect.ownKeys(Array.prototype).length;
function prototypeChanged() {
  return Reflect.ownKeys(Object.prototype).length !== protoCount || Reflect.ownKeys(Array.prototype).length !== arrayProtoCount || {}.user !== undefined || {}.capabilities !== undefined;
}
function restorePrototypes() {
  protoCount = Reflect.ownKeys(Object.prototype).length;
  arrayProtoCount = Reflect.ownKeys(Array.prototype).length;
}

/**
 * Runs every target (or those named), splitting `total` by each target's share. Returns per-target
 * results plus the checks around them. Used by evidence/fuzz.js and test/evidence/fuzz.test.ts.
 */
async function runAll({ total, seed, only, progress, heartbeat, onTarget }) {
  const unclassified = unclassifiedExports();
  const restore = installTripwires();
  const stateBefore = stateSnapshot();
  const protoBefore = prototypeSnapshot();
  const results = [];
  const problems = [];
  try {
    const targets = only ? TARGETS.filter((t) => only.includes(t.name) || only.some((o) => t.name.startsWith(o))) : TARGETS;
    const shares = targets.reduce((a, t) => a + t.share, 0);
    for (const [i, target] of targets.entries()) {
      if (onTarget) onTarget(i, target);
      const cases = Math.max(1, Math.round((total * target.share) / shares));
      const r = await runTarget(target, { cases, seed: seed + i * 1000003, progress, heartbeat });
      const stateAfter = stateSnapshot();
      r.stateChanged = stateAfter !== stateBefore;
      if (r.stateChanged) problems.push(`${target.name}: process state changed:\n  before ${stateBefore}\n  after  ${stateAfter}`);
      results.push(r);
    }
  } finally {
    restore();
  }
  if (unclassified.length) problems.push(`native exports in neither CHANGES_STATE nor HARMLESS (evidence/fuzz/oracle.js), tripwired: ${unclassified.join(', ')}`);
  if (tripped.length) problems.push(`native tripwires reached: ${tripped.join(', ')}`);
  if (prototypeSnapshot() !== protoBefore) problems.push('a built-in prototype changed');
  const stateAfter = stateSnapshot();
  if (stateAfter !== stateBefore) problems.push(`process state changed over the run:\n  before ${stateBefore}\n  after  ${stateAfter}`);
  const cases = results.reduce((a, r) => a + r.cases, 0);
  const failures = results.reduce((a, r) => a + r.failures, 0) + problems.length;
  return { results, problems, cases, failures, state: stateBefore };
}

module.exports = { runAll, runTarget };
