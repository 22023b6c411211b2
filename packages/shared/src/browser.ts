/**
 * The part of the contract a browser can load: no Node module anywhere in its imports. The live
 * page's script is bundled from it (`@three-tier/shared/browser`); the api's build fails if a Node
 * import creeps in.
 */
export * from './budgets.js';
export * from './edge-problems.js';
export * from './faults.js';
export * from './instance-identity.js';
export * from './responses.js';
export * from './rotation.js';
export * from './routes.js';
export * from './topology.js';
