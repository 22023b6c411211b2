/**
 * Express 4, installed as `express4` beside Express 5 for the course's app (servers/course-app.ts):
 * the little of its API that stand-in uses. Express 4's handlers are Express 5's in shape.
 */
declare module 'express4' {
  import type { Express } from 'express';

  export default function express(): Express;
}
