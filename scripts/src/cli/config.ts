import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { authError, usageError } from './errors.ts';

/** What `login` stores: the server and an API token (never the password). */
export interface StoredConfig {
  server: string;
  token: string;
  /** Lets `logout` revoke the token server-side. */
  tokenId?: string;
  username?: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), '.config');
  return path.join(base, 'data-uploader', 'config.json');
}

export async function readStoredConfig(env: NodeJS.ProcessEnv = process.env): Promise<StoredConfig | null> {
  const file = configPath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<StoredConfig>;
    if (typeof parsed.server !== 'string' || typeof parsed.token !== 'string') throw new Error('fields missing');
    return parsed as StoredConfig;
  } catch {
    throw usageError(`${file} is not a data-uploader configuration; run "data-uploader login" again.`);
  }
}

/** Written with mode 0600 from the first byte (and chmod-ed in case the file already existed wider). */
export async function writeStoredConfig(config: StoredConfig, env: NodeJS.ProcessEnv = process.env) {
  const file = configPath(env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

export async function deleteStoredConfig(env: NodeJS.ProcessEnv = process.env) {
  await rm(configPath(env), { force: true });
}

export interface Credentials {
  server: string;
  token: string;
  stored: StoredConfig | null;
}

/**
 * Flags win over the environment (`DATA_UPLOADER_TOKEN`, `DATA_UPLOADER_SERVER`, for unattended runs), which
 * wins over what `login` stored.
 */
export async function resolveCredentials(
  flags: { server?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
  fallbackServer?: string,
): Promise<Credentials> {
  const stored = await readStoredConfig(env);
  const server = flags.server ?? env.DATA_UPLOADER_SERVER ?? stored?.server ?? fallbackServer;
  const token = flags.token ?? env.DATA_UPLOADER_TOKEN ?? stored?.token;
  if (!token) throw authError('Not signed in: run "data-uploader login", or pass --token / set DATA_UPLOADER_TOKEN.');
  if (!server) {
    throw usageError('No server: pass --server URL, set DATA_UPLOADER_SERVER, or run "data-uploader login".');
  }
  return { server: normaliseServer(server), token, stored };
}

export function normaliseServer(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw usageError(`"${server}" is not a server URL (e.g. https://uploads.example.org).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`"${server}" is not an http(s) URL.`);
  return url.toString().replace(/\/$/, '');
}
