import { allowHeader, routeList, type RouteId } from '@three-tier/shared';
import type { Express, RequestHandler } from 'express';
import { HttpError } from './problem.js';
import { routeContext } from './request-context.js';

/** One handler per route of the table; the type makes a missing one a compile error. */
export type RouteHandlers = { readonly [Id in RouteId]: RequestHandler };

/**
 * Mounts the route table: each path answers its methods (HEAD through GET) and 405 with `Allow`
 * to anything else.
 */
export function mountRoutes(app: Express, deadlines: boolean, handlers: RouteHandlers): void {
  for (const route of routeList) {
    const allow = allowHeader(route);
    app
      .route(route.path)
      .get(routeContext(route, deadlines), handlers[route.id])
      .all(() => {
        throw new HttpError(405, `${route.path} answers ${allow} only.`, { Allow: allow });
      });
  }
}
