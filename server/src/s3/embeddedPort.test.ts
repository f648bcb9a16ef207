import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../config.ts';
import { openStorage } from './embeddedPort.ts';
import type { Storage } from './storage.ts';

const portOf = (storage: Storage) => Number(new URL(storage.embedded?.endpoint ?? '').port);

describe('the embedded S3 server without EMBEDDED_S3_PORT', { timeout: 60_000 }, () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'du-s3-port-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('comes back on the port it had in the same DATA_DIR, and on another one when that is taken', async () => {
    const config = readConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const first = await openStorage(config);
    const port = portOf(first);
    await first.close();

    const second = await openStorage(config);
    expect(portOf(second)).toBe(port);
    await second.close();

    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const third = await openStorage(config);
      expect(portOf(third)).not.toBe(port);
      expect(await third.health()).toBe('ok');
      await third.close();
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
