import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalS3Message } from './localS3Server.ts';

export interface LocalS3Options {
  /** Buckets, objects, CORS rules and in-progress multipart uploads live here and survive restarts. */
  dataDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
}

export interface LocalS3 {
  /** http://127.0.0.1:<port>; use with forcePathStyle. */
  endpoint: string;
  region: 'us-east-1';
  accessKeyId: 'S3RVER';
  secretAccessKey: 'S3RVER';
  /** Ends the server process and resolves once it has exited. */
  stop(): Promise<void>;
}

/** s3rver's only key pair and region; the front verifies presigned URLs against them. */
export const ACCESS_KEY_ID = 'S3RVER';
export const SECRET_ACCESS_KEY = 'S3RVER';
export const REGION = 'us-east-1';

const SERVER_ENTRY = fileURLToPath(new URL('./localS3Server.ts', import.meta.url));
/** The server package folder, so `--import tsx` resolves the same wherever the parent was started. */
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Starts the embedded S3-compatible server (s3rver behind the project's front, see localS3Server.ts) in a
 * child process: that keeps s3rver's old CommonJS dependencies out of this process, and gives it the OpenSSL
 * legacy provider its ListObjectsV2 continuation tokens need without imposing the flag on the app.
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const child = fork(SERVER_ENTRY, [path.resolve(options.dataDir), String(options.port ?? 0)], {
    cwd: PACKAGE_DIR,
    execArgv: ['--openssl-legacy-provider', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await waitUntilListening(child);
  // Neither the child nor its IPC channel may keep this process alive; the child exits when we do.
  child.unref();
  child.channel?.unref();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: REGION,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    stop: () => stopChild(child),
  };
}

function waitUntilListening(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => {
      cleanUp();
      child.kill('SIGKILL');
      reject(new Error(`local S3 server did not start: ${reason}`));
    };
    const onMessage = (message: LocalS3Message) => {
      if (message.type === 'error') return fail(message.message);
      cleanUp();
      resolve(message.port);
    };
    const onExit = (code: number | null, signal: string | null) => fail(`exited (${signal ?? `code ${code}`})`);
    const onError = (error: Error) => fail(error.message);
    const timer = setTimeout(() => fail(`no answer within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const cleanUp = () => {
      clearTimeout(timer);
      child.off('message', onMessage).off('exit', onExit).off('error', onError);
    };
    child.on('message', onMessage).on('exit', onExit).on('error', onError);
  });
}

/** SIGTERM, then SIGKILL if the child has not exited after a few seconds; resolves once it is gone. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.ref(); // keep this process up until the exit event arrives
    child.kill('SIGTERM');
  });
}
