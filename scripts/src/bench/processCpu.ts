import { readdir, readFile } from 'node:fs/promises';

/** Which part of the machine a process is, from its command line; null for what no benchmark figure is about. */
function groupOf(commandLine: string): string | null {
  if (commandLine.includes('chromium')) {
    const type = /--type=([a-z-]+)/.exec(commandLine)?.[1];
    const subType = /--utility-sub-type=([a-z_]+)\./.exec(commandLine)?.[1];
    return `chromium ${subType ?? type ?? 'browser'}`;
  }
  if (commandLine.includes('localS3Server')) return 'embedded S3';
  if (commandLine.includes('browserBenchApp') || commandLine.includes('benchServer')) return 'app';
  if (commandLine.startsWith('rclone')) return 'rclone';
  if (commandLine.includes('postgres')) {
    const background = /: (checkpointer|background writer|walwriter|autovacuum \w+)/.exec(commandLine)?.[1];
    return background ? `postgres ${background}` : 'postgres';
  }
  return null;
}

/** CPU time (user + system, ms) every process on the machine has used so far, summed by group. */
export async function cpuByProcessGroup(): Promise<Map<string, number>> {
  const groups = new Map<string, number>();
  const tickMs = 10; // Linux's USER_HZ is 100 everywhere this runs.
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const read = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/cmdline`, 'utf8'),
    ]).catch(() => null); // The process ended meanwhile.
    if (!read) continue;
    const [stat, commandLine] = read;
    const group = groupOf(commandLine.replaceAll('\0', ' '));
    if (!group) continue;
    // Fields after the command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * tickMs;
    groups.set(group, (groups.get(group) ?? 0) + ms);
  }
  return groups;
}

/**
 * CPU used between two readings, by group, per unit of work (e.g. per file), largest first. Processes that ended
 * in between are not counted (rclone's own CPU comes from bash's `times`: see browserBench's childCpuMs).
 */
export function cpuPerUnit(before: Map<string, number>, after: Map<string, number>, units: number) {
  return [...after]
    .map(([group, ms]) => ({ group, ms: (ms - (before.get(group) ?? 0)) / units }))
    .filter(({ ms }) => ms > 0)
    .sort((a, b) => b.ms - a.ms);
}

export const cpuText = (parts: Array<{ group: string; ms: number }>) =>
  `${parts.reduce((sum, { ms }) => sum + ms, 0).toFixed(2)} ms (${parts.map(({ group, ms }) => `${group} ${ms.toFixed(2)}`).join(', ')})`;
