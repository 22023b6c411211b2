/**
 * Who listens on a TCP port, so that a port found taken can be named with its holder: the
 * kernel's socket tables (/proc/net/tcp and tcp6) give each listening socket's inode, and the
 * /proc/<pid>/fd links name the processes that hold it. Only this network namespace's sockets,
 * and only processes this user may look into (root sees them all).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { commandLineOf, listPids, readProcStat } from './proc.js';

/** The st column of a socket in the LISTEN state. */
const listenState = '0A';

/** A process that holds a listening socket. */
export interface Listener {
  readonly pid: number;
  /** Its command line; empty once it is gone. */
  readonly command: string;
  /** Its process group: the group leader is what a runner records as the service. */
  readonly pgrp: number | undefined;
}

/** The inodes of the sockets listening on `port`, on any address, IPv4 or IPv6. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6, or no /proc
    }
    // Columns: sl local_address rem_address st ... inode (the tenth); addresses are HEX_ADDR:HEX_PORT.
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, local, , state] = fields;
      const inode = fields[9];
      if (state !== listenState || !local || !inode || inode === '0') continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(inode);
    }
  }
  return inodes;
}

/** Whether one of the process's open files is one of `sockets` ("socket:[inode]"). */
function holdsAny(pid: number, sockets: ReadonlySet<string>): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false; // gone, or not ours to look into
  }
  return fds.some((fd) => {
    try {
      return sockets.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      return false; // closed meanwhile
    }
  });
}

/**
 * The processes listening on TCP `port`, the first of each family only (nginx's workers share their
 * master's socket: the master is named). Empty when none is visible, or without /proc.
 */
export function listenersOn(port: number): Listener[] {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  const sockets = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  const holders = listPids()
    .filter((pid) => holdsAny(pid, sockets))
    .map((pid) => ({ pid, stat: readProcStat(pid) }));
  const pids = new Set(holders.map(({ pid }) => pid));
  return holders
    .filter(({ stat }) => stat === undefined || !pids.has(stat.ppid))
    .map(({ pid, stat }) => ({ pid, command: commandLineOf(pid) ?? '', pgrp: stat?.pgrp }));
}
