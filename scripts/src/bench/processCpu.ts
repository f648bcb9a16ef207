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

/** utime + stime of a /proc stat line, in ms (Linux's USER_HZ is 100 everywhere this runs). */
function cpuMsOf(stat: string): number {
  // Fields after the command name: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * A Chromium process's CPU by thread name (digits dropped, so a pool's threads are one), added to `groups` as
 * `group: thread`: the renderer's main thread and the put worker's thread are different costs to chase.
 */
async function addThreads(groups: Map<string, number>, pid: string, group: string) {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
  for (const tid of tasks) {
    const read = await Promise.all([
      readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8'),
    ]).catch(() => null);
    if (!read) continue;
    const name = `${group}: ${read[1].trim().replace(/\d+/g, '')}`;
    groups.set(name, (groups.get(name) ?? 0) + cpuMsOf(read[0]));
  }
}

/**
 * CPU time (user + system, ms) every process on the machine has used so far, summed by group; with `threads`,
 * Chromium's renderer and browser processes also by thread.
 */
export async function cpuByProcessGroup(threads = false): Promise<Map<string, number>> {
  const groups = new Map<string, number>();
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
    groups.set(group, (groups.get(group) ?? 0) + cpuMsOf(stat));
    if (threads && (group === 'chromium renderer' || group === 'chromium browser'))
      await addThreads(groups, pid, group);
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

/** `7.46 ms (chromium renderer 2.66 [CrRendererMain 1.20, …], embedded S3 1.68, …)`: threads inside their process. */
export function cpuText(parts: Array<{ group: string; ms: number }>): string {
  const processes = parts.filter(({ group }) => !group.includes(': '));
  const threadsOf = (group: string) =>
    parts
      .filter((part) => part.group.startsWith(`${group}: `) && part.ms >= 0.01)
      .map(({ group: thread, ms }) => `${thread.slice(group.length + 2)} ${ms.toFixed(2)}`);
  const text = processes.map(({ group, ms }) => {
    const threads = threadsOf(group);
    return `${group} ${ms.toFixed(2)}${threads.length > 0 ? ` [${threads.join(', ')}]` : ''}`;
  });
  return `${processes.reduce((sum, { ms }) => sum + ms, 0).toFixed(2)} ms (${text.join(', ')})`;
}
