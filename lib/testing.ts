// Test-only entry (not in the published package: package.json's `files` leaves it out).
// Tests load the fault-injection build (build/Release/privdrop_faults.node) or a broken file
// through it; the production loader never takes a file name from the environment.
export { setBindingFileForTesting as useBindingFile } from './addon/binding';
