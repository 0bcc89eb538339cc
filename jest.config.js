'use strict';
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Privilege-drop tests spawn real child processes; keep two workers on a two-core machine.
  maxWorkers: 2,
  testTimeout: 60000,
};
