import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const startTimeoutMs = 60_000;

/**
 * The app in a process of its own, as `pnpm start` runs it (server/src/main.ts), so a test can SIGKILL it and
 * start it again on the same port and DATA_DIR. The env is what the test passes, on top of this process's,
 * without the suite's DATABASE_URL unless the test passes one.
 */
export class AppProcess {
  #child: ChildProcess | null = null;
  #output = '';

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Whether the process started last is still alive (a crash ends it). */
  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The embedded S3 server's port in the app's last start (from its ready line). */
  get s3Port(): number {
    const ports = [...this.#output.matchAll(/embedded S3 at http:\/\/127\.0\.0\.1:(\d+)/g)];
    return Number(ports.at(-1)?.[1]);
  }

  /** Everything the app printed, over all its runs. */
  get output() {
    return this.#output;
  }

  /** Starts the app and resolves once it listens. */
  async start(): Promise<void> {
    const { DATABASE_URL: _, ...inherited } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      cwd: root,
      env: { ...inherited, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the app did not listen within 60 s:\n${seen}`)), startTimeoutMs);
      const onData = (chunk: Buffer) => {
        seen += chunk;
        this.#output += chunk;
        if (seen.includes('Data Uploader on ')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the app exited (${signal ?? code}) before it listened:\n${seen}`));
      });
    });
  }

  /** SIGKILL: no shutdown handler runs, nothing is flushed or closed. Resolves once the process is gone. */
  kill(): Promise<void> {
    return this.#end('SIGKILL');
  }

  /** SIGTERM: the app's own orderly stop. */
  stop(): Promise<void> {
    return this.#end('SIGTERM');
  }

  async #end(signal: NodeJS.Signals) {
    const child = this.#child;
    this.#child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}

/** A port nobody listens on at the moment. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Whether something accepts connections on a port of 127.0.0.1. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
