export * from './duration.js';
export * from './run-files.js';
