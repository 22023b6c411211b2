/**
 * The container health check: exits 0 when this instance answers /readyz, 1 otherwise. Images
 * without curl or wget run it with the node they already have (`node .../healthcheck.js`).
 */
import { ports, routes } from '@three-tier/shared';

const port = Number(process.env.PORT ?? ports.api);
try {
  const response = await fetch(`http://127.0.0.1:${port}${routes.readyz.path}`, { signal: AbortSignal.timeout(2_000) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
