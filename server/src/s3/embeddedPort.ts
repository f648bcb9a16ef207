import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Config, usesEmbeddedS3 } from '../config.ts';
import { Storage } from './storage.ts';

const portFile = (config: Config) => path.resolve(config.DATA_DIR, 'embedded-s3-port');

/**
 * Opens the storage; with the embedded S3 server and no EMBEDDED_S3_PORT, on the port it had the last time it ran
 * on this DATA_DIR. Presigned URLs name that port, and clients hold hundreds of them mid-upload: after a restart
 * (a crash, an update) they keep working instead of all pointing at a port nobody listens on. Should that port be
 * taken meanwhile, any free one will do: the app must start.
 */
export async function openStorage(config: Config): Promise<Storage> {
  if (!usesEmbeddedS3(config) || config.EMBEDDED_S3_PORT !== 0) return Storage.open(config);
  const remembered = Number(await readFile(portFile(config), 'utf8').catch(() => '0'));
  const storage =
    remembered > 0
      ? await Storage.open({ ...config, EMBEDDED_S3_PORT: remembered }).catch(() => Storage.open(config))
      : await Storage.open(config);
  if (storage.embedded) await writeFile(portFile(config), new URL(storage.embedded.endpoint).port);
  return storage;
}
