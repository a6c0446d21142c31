/**
 * Which process owns something (a lock, a record of stopped services), told apart from a
 * later process that reuses its pid (pid 1 in every container, or after a reboot) by its
 * start time and the boot id. Linux /proc; elsewhere the pid alone.
 */
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  readonly pid: number;
  /** Start time in clock ticks since boot (/proc/PID/stat field 22); undefined off Linux. */
  readonly startTicks?: string | undefined;
  readonly bootId?: string | undefined;
}

/** This process. */
export function currentProcess(): ProcessIdentity {
  return identityOf(process.pid);
}

/** Whether the process `identity` names is still running (the same process, not a reused pid). */
export function isStillRunning(identity: ProcessIdentity): boolean {
  if (!Number.isInteger(identity.pid) || identity.pid <= 0) return false;
  try {
    process.kill(identity.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A process killed but not yet reaped by its parent is a zombie: it runs no more.
  if (stateOf(identity.pid) === 'Z') return false;
  const now = identityOf(identity.pid);
  if (identity.bootId !== undefined && now.bootId !== undefined && identity.bootId !== now.bootId)
    return false;
  if (
    identity.startTicks !== undefined &&
    now.startTicks !== undefined &&
    identity.startTicks !== now.startTicks
  )
    return false;
  return true;
}

function identityOf(pid: number): ProcessIdentity {
  return {
    pid,
    startTicks: startTicksOf(pid),
    bootId: readText('/proc/sys/kernel/random/boot_id'),
  };
}

function startTicksOf(pid: number): string | undefined {
  // Field 22 is the 20th after the command name.
  return statFieldsOf(pid)?.[19];
}

/** The process state (/proc/PID/stat field 3: R, S, D, Z, …); undefined off Linux. */
function stateOf(pid: number): string | undefined {
  return statFieldsOf(pid)?.[0];
}

/** /proc/PID/stat from field 3 on. */
function statFieldsOf(pid: number): string[] | undefined {
  const stat = readText(`/proc/${String(pid)}/stat`);
  if (stat === undefined) return undefined;
  // The command name before them is in parentheses and may hold spaces.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}
