import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { randomInt } from 'node:crypto';

/** Explicit picks start here: above the ports services commonly take. */
const lowestPick = 10_000;

/**
 * The kernel's ephemeral range, first and last port. The kernel hands out ports from it to
 * listen(0) and to the local end of every outgoing connection: a port found free there and released
 * can be taken by any connection on the machine before the test binds it again. CI saw it happen:
 * docker-proxy could not publish a port picked a build earlier (EADDRINUSE), under the load of the
 * suites beside it. Outside the range the kernel assigns nothing on its own.
 */
function ephemeralRange(): [number, number] {
  try {
    const [first, last] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (first !== undefined && last !== undefined && Number.isInteger(first) && Number.isInteger(last)) return [first, last];
  } catch {
    // not Linux: its default
  }
  return [32_768, 60_999];
}

/** Why a TCP port cannot be bound on `host` right now (EADDRINUSE: it is held), or undefined if it can. */
export function bindError(port: number, host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen(port, host, () => server.close(() => resolve(undefined)));
  });
}

/** Whether a TCP port can be bound on the loopback interface right now (it is not held). */
export async function bindable(port: number): Promise<boolean> {
  return (await bindError(port, '127.0.0.1')) === undefined;
}

/**
 * The first of `count` consecutive TCP ports free on the loopback interface right now, outside the
 * kernel's ephemeral range (see ephemeralRange), picked at random so that processes picking at the
 * same time rarely meet; each is checked by binding it. The runner puts its api instances on
 * API_PORT, API_PORT+1 and so on: tests take their ports with freePorts(instances).
 */
export async function freePorts(count: number): Promise<number> {
  const [first, last] = ephemeralRange();
  // The wider of the two windows outside the ephemeral range: below it (from 10000), or above it.
  const [low, high] = first - lowestPick >= 65_536 - (last + 1) ? [lowestPick, first] : [last + 1, 65_536];
  // A machine whose ephemeral range leaves no room outside it: the kernel's own pick, as before.
  if (high - low < 1_000) return kernelPick(count);
  for (let tries = 0; tries < 200; tries += 1) {
    const start = randomInt(low, high - count + 1);
    let free = true;
    for (let offset = 0; offset < count && free; offset += 1) free = await bindable(start + offset);
    if (free) return start;
  }
  throw new Error(`no ${count} consecutive free ports found from ${low} to ${high - 1}`);
}

/** The first of `count` free ports, from listen(0): inside the ephemeral range, so less safe. */
async function kernelPick(count: number): Promise<number> {
  for (let tries = 0; tries < 200; tries += 1) {
    const start = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    let free = start + count <= 65_536;
    for (let offset = 1; offset < count && free; offset += 1) free = await bindable(start + offset);
    if (free) return start;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** A TCP port free on the loopback interface right now, outside the kernel's ephemeral range. */
export function freePort(): Promise<number> {
  return freePorts(1);
}

/** A free port (as freePort) outside `count` ports from `first`, which are free too but not held. */
export async function freePortBesides(first: number, count: number): Promise<number> {
  for (let tries = 0; tries < 200; tries += 1) {
    const port = await freePort();
    if (port < first || port >= first + count) return port;
  }
  throw new Error(`no free port found outside ${first}-${first + count - 1}`);
}

/**
 * Ports for npm start's stack on loopback: `instances` consecutive api ports (the runner puts its
 * instances on API_PORT, API_PORT+1...; `api` when given, else picked), and an edge and a Redis
 * port apart from them and from each other.
 */
export async function freeStackPorts(instances: number, api?: number): Promise<{ api: number; edge: number; redis: number }> {
  const first = api ?? (await freePorts(instances));
  const edge = await freePortBesides(first, instances);
  for (let tries = 0; tries < 200; tries += 1) {
    const redis = await freePortBesides(first, instances);
    if (redis !== edge) return { api: first, edge, redis };
  }
  throw new Error('no Redis port found apart from the edge and api ports');
}

/**
 * Fails when something already answers on a loopback port. Checked before a start, so a health
 * check can never be answered by a stranger (say, the stack of an earlier run).
 */
export async function assertPortFree(port: number, owner: string): Promise<void> {
  const taken = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
  if (taken) throw new Error(`${owner} cannot start: port ${port} is already in use on 127.0.0.1`);
}

/** The port of an http:// URL, defaults included. */
export function portOf(url: string): number {
  const parsed = new URL(url);
  return parsed.port ? Number(parsed.port) : 80;
}
