import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** Every child process a benchmark starts, so an interrupt or a failure can end them. */
const children = new Set<ChildProcess>();

export function stopChildren() {
  for (const child of children) child.kill('SIGTERM');
}

/** Runs a command to its end; answers its stdout and wall time, and throws with its stderr on a failure. */
export async function run(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const start = performance.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  children.delete(child);
  const ms = performance.now() - start;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`);
  return { stdout, ms };
}

/** The V8 flags `pnpm start` runs the app with (package.json), so a benchmark measures the app as it is run. */
export const appNodeFlags = ['--max-semi-space-size=64'];

/**
 * Starts a `.ts` script that prints one JSON line once it is ready (the app under test, in its own process);
 * answers that line and a stop.
 */
export async function startReporting<T>(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<T & { stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...appNodeFlags, '--import', 'tsx', script], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const lines = createInterface({ input: child.stdout });
  const ready = once(lines, 'line') as Promise<[string]>;
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${script} exited ${code} before it was ready`);
  });
  const [line] = await Promise.race([ready, exited]);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    children.delete(child);
  };
  return { ...(JSON.parse(line) as T), stop };
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
