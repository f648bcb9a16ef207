import { hostname } from 'node:os';
import { TRPCClientError } from '@trpc/client';
import { createApi } from '../../driver/api.ts';
import { connect, cookieClient, type GlobalFlags } from '../client.ts';
import { configPath, deleteStoredConfig, normaliseServer, readStoredConfig, writeStoredConfig } from '../config.ts';
import { authError, explain, usageError } from '../errors.ts';
import { printJson } from '../progress.ts';
import { ask, askPassword } from '../prompt.ts';

/** Signs in once with the password, keeps only an API token (0600), and ends the cookie session it used. */
export async function login(options: GlobalFlags & { username?: string }) {
  const serverFlag = options.server ?? process.env.DATA_UPLOADER_SERVER;
  if (!serverFlag) throw usageError('login needs --server URL (or DATA_UPLOADER_SERVER).');
  const server = normaliseServer(serverFlag);
  const username = (options.username ?? (await ask('Username: '))).trim();
  if (!username) throw usageError('A username is required.');
  const password = await askPassword('Password: ');
  if (!password) throw usageError('A password is required (on the terminal, or as the first line of stdin).');
  const client = cookieClient(server);
  try {
    await client.auth.login.mutate({ username, password });
  } catch (error) {
    if (error instanceof TRPCClientError && error.data?.code === 'UNAUTHORIZED') {
      throw authError('Wrong username or password.');
    }
    throw explain(error, server);
  }
  try {
    const created = await client.tokens.create.mutate({ name: `data-uploader on ${hostname()}`.slice(0, 100) });
    const file = await writeStoredConfig({ server, token: created.token, tokenId: created.id, username });
    process.stdout.write(`Signed in to ${server} as ${username}; token stored in ${file}\n`);
  } catch (error) {
    throw explain(error, server);
  } finally {
    // The token is what the CLI keeps; the browser-style session it came from is not needed any more.
    await client.auth.logout.mutate().catch(() => undefined);
  }
}

/** Revokes the stored token on the server where possible, then forgets it locally either way. */
export async function logout(flags: GlobalFlags) {
  const stored = await readStoredConfig();
  if (!stored) {
    process.stdout.write('Not signed in (no stored token).\n');
    return;
  }
  let revoked = false;
  if (stored.tokenId) {
    try {
      const api = createApi(flags.server ?? stored.server, { token: stored.token });
      await api.tokens.revoke.mutate({ id: stored.tokenId });
      revoked = true;
    } catch (error) {
      process.stderr.write(`Could not revoke the token on the server: ${explain(error, stored.server).message}\n`);
    }
  }
  await deleteStoredConfig();
  process.stdout.write(`Signed out${revoked ? '; the token is revoked' : ''} (${configPath()} deleted).\n`);
}

export async function whoami(flags: GlobalFlags & { json?: boolean }) {
  const { me, server } = await connect(flags);
  if (flags.json) printJson({ server, username: me.username, role: me.role, company: me.company?.name ?? null });
  else process.stdout.write(`${me.username} (${me.role}) at ${me.company?.name ?? '?'} on ${server}\n`);
}
