export * from './ast.js';
export * from './generate.js';
export * from './render.js';
export * from './target.js';
