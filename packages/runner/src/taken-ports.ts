/**
 * Checked before `up` starts anything: each port the stack will listen on is free, or the runner
 * says which is taken and by what, and starts nothing. The holder most often met is the stack of an
 * earlier `npm start` whose npm was killed outright while its runner ran on: that one is named by
 * its run folder, with the pid to stop.
 */
import { bindError, listenersOn, liveRuns, type Listener, type RunRecord } from '@three-tier/processes';
import { apiPortsOf, type RunnerEnv } from './config.js';

/** A port the stack needs, named by the variable that sets it, and the host it binds. */
interface WantedPort {
  readonly variable: string;
  readonly port: number;
  readonly host: string;
}

function wantedPorts(env: RunnerEnv): WantedPort[] {
  const apiPorts = apiPortsOf(env);
  return [
    { variable: 'EDGE_PORT', port: env.EDGE_PORT, host: env.EDGE_HOST },
    ...apiPorts.map((port, index) => ({ variable: index === 0 ? 'API_PORT' : `API_PORT+${index} (API_INSTANCES=${env.API_INSTANCES})`, port, host: '127.0.0.1' })),
    { variable: 'REDIS_PORT', port: env.REDIS_PORT, host: '127.0.0.1' },
  ];
}

/** The live run (runner) whose service `listener` is, with that service's name. */
function runOf(listener: Listener, runs: readonly { path: string; record: RunRecord }[]): { path: string; record: RunRecord; service: string } | undefined {
  for (const run of runs) {
    for (const [service, { pid }] of Object.entries(run.record.services)) {
      // Each service leads its process group: nginx's master or a worker, the group names it.
      if (pid === listener.pid || pid === listener.pgrp) return { ...run, service };
    }
  }
  return undefined;
}

function describeHolder(listener: Listener, runs: readonly { path: string; record: RunRecord }[]): string {
  const process = `pid ${listener.pid}${listener.command ? ` (${listener.command})` : ''}`;
  const run = runOf(listener, runs);
  if (!run) return `${process}: stop it, or choose another port`;
  return (
    `${process}, the ${run.service} of the stack an earlier npm start still runs ` +
    `(runner pid ${run.record.runner.pid}, run folder ${run.path}): stop that stack with \`kill ${run.record.runner.pid}\`, or choose another port`
  );
}

/**
 * One line per port of the stack that cannot be bound now, naming its holder where /proc shows it
 * (run folders are looked for under `runParent`, the TMPDIR of the runners); empty when all are free.
 */
export async function takenPorts(env: RunnerEnv, runParent: string): Promise<string[]> {
  const taken: string[] = [];
  let runs: { path: string; record: RunRecord }[] | undefined;
  for (const { variable, port, host } of wantedPorts(env)) {
    // Only a port in use is said here; another failure (an EDGE_HOST not of this machine) is nginx's to report.
    if ((await bindError(port, host)) !== 'EADDRINUSE') continue;
    runs ??= await liveRuns(runParent);
    const holders = listenersOn(port);
    const by =
      holders.length === 0
        ? 'a process not visible here (another user\'s, or another network namespace\'s): choose another port'
        : holders.map((listener) => describeHolder(listener, runs ?? [])).join('; ');
    taken.push(`${variable} ${port} is taken on ${host}, by ${by}`);
  }
  return taken;
}
