// The harness reads what the server project's globalSetup provides; its typing of `inject` lives there.
/// <reference path="../../../server/test/globalSetup.ts" />
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { schema } from '@data-uploader/drizzle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, cliFinished, startCli } from '../../../server/test/cliProcess.ts';
import {
  apiClient,
  type SeededCompany,
  seedCompany,
  startTestServer,
  type TestServer,
  testPassword,
} from '../../../server/test/harness.ts';
import {
  bucketListing,
  bucketState,
  deleteObject,
  ledgerOf,
  MiB,
  objectSha256,
  projectWithCycle,
  sendTo,
  sessionRow,
  tokenOf,
  writeFolder,
} from '../../../server/test/uploadFixtures.ts';
import { createMultipartUpload } from '../driver/transfer.ts';

let server: TestServer;
let company: SeededCompany;
let home: string;
let place: Awaited<ReturnType<typeof projectWithCycle>>;
let userToken: string;
const folders: string[] = [];

function start(args: string[], options: { env?: Record<string, string>; input?: string } = {}): ChildProcess {
  return startCli(args, { home, ...options });
}

/** Runs the CLI with the user's token and the test server in the environment, as an unattended job would. */
function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliRun> {
  return cliFinished(
    start(args, {
      input: options.input,
      env: { DATA_UPLOADER_SERVER: server.url, DATA_UPLOADER_TOKEN: userToken, ...options.env },
    }),
  );
}

const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown> & { type: string });

async function folder(spec: Array<{ relativePath: string; size: number }>) {
  const written = await writeFolder(spec);
  folders.push(written.root);
  return written.root;
}

const cyclePrefix = () => `${place.cycle.s3Prefix}/`;
const listing = () => bucketListing(server, place.project, cyclePrefix());
/** A URL nobody listens on: a port just freed. */
async function closedPortUrl() {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const activeSessions = async () =>
  (await server.db.select().from(schema.uploadSessions)).filter((row) => row.status === 'active');
const target = () => ['--project', place.project.name, '--cycle', place.cycle.name];

beforeAll(async () => {
  // Multipart from 5 MiB, so one test can interrupt a multi-part file without writing hundreds of MiB.
  server = await startTestServer({ MULTIPART_THRESHOLD_MIB: '5', PART_SIZE_MIB: '5' });
  company = await seedCompany(server.db, 'cli');
  place = await projectWithCycle(server, company, 'cli-bucket');
  userToken = await tokenOf(server, company.users.user.id);
  home = await mkdtemp(path.join(tmpdir(), 'du-cli-home-'));
});

afterAll(async () => {
  await server?.close();
  await Promise.all([home, ...folders].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
});

// Each test spawns several CLI processes (tsx start-up included), slow on a loaded CI machine.
describe('data-uploader', { timeout: 90_000 }, () => {
  it('logs in (password on stdin), stores the token with mode 0600, answers whoami, and logout revokes it', async () => {
    const login = await cliFinished(
      start(['login', '--server', server.url, '--username', company.users.user.username], {
        input: `${testPassword}\n`,
      }),
    );
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    const file = path.join(home, '.config', 'data-uploader', 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, 'utf8'));
    expect(stored).toMatchObject({ server: server.url });
    expect(stored.token).toMatch(/^du_/);

    const me = await cliFinished(start(['whoami', '--json']));
    expect(me.code).toBe(0);
    expect(JSON.parse(me.stdout)).toMatchObject({ username: company.users.user.username, server: server.url });

    const logout = await cliFinished(start(['logout']));
    expect(logout.code).toBe(0);
    await expect(stat(file)).rejects.toThrow();
    // The token itself is revoked on the server, not just forgotten here.
    const revoked = await cliFinished(start(['whoami', '--server', server.url, '--token', stored.token]));
    expect(revoked.code).toBe(3);
    expect(revoked.stderr).toMatch(/refused the credentials/);
  });

  it('refuses a wrong password and a wrong token with exit 3', async () => {
    const login = await cliFinished(
      start(['login', '--server', server.url, '--username', company.users.user.username], { input: 'nope\n' }),
    );
    expect(login.code).toBe(3);
    const wrong = await cli(['projects'], { env: { DATA_UPLOADER_TOKEN: 'du_notavalidtoken' } });
    expect(wrong.code).toBe(3);
    const none = await cliFinished(start(['projects']));
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/Not signed in/);
  });

  it('uploads two sensor folders, skips junk and counts it, then a second run skips everything', async () => {
    const root = await folder([
      { relativePath: 'S4A01/20250909_092000.WAV', size: 3000 },
      { relativePath: 'S4A01/20250909_093000.WAV', size: 3100 },
      { relativePath: 'S4A02/20250910-101500.wav', size: 3200 },
      { relativePath: '.DS_Store', size: 10 },
      { relativePath: 'S4A01/Thumbs.db', size: 10 },
      { relativePath: 'S4A02/._20250910-101500.wav', size: 10 },
      { relativePath: '.hidden/20250101_000000.WAV', size: 10 },
    ]);
    const first = await cli(['upload', root, ...target(), '--label', 'first']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Found 3 files .*; 4 hidden\/system skipped/);
    expect(first.stdout).toMatch(/Verified: 3 files/);
    expect([...(await listing()).entries()].sort()).toEqual([
      [`${cyclePrefix()}S4A01/20250909_092000.WAV`, 3000],
      [`${cyclePrefix()}S4A01/20250909_093000.WAV`, 3100],
      [`${cyclePrefix()}S4A02/20250910-101500.wav`, 3200],
    ]);

    const again = await cli(['upload', root, ...target(), '--json']);
    expect(again.code).toBe(0);
    const events = jsonLines(again.stdout);
    const finishedEvent = events.find((event) => event.type === 'finished');
    expect(events.find((event) => event.type === 'planned')).toMatchObject({ upload: 0, resume: 0, skip: 3 });
    expect(finishedEvent).toMatchObject({ ok: true, bytesSent: 0 });
    expect(events.find((event) => event.type === 'discovered')).toMatchObject({ files: 3, skippedHidden: 4 });
  });

  it('dry run prints decisions and per-sensor recording spans, and moves nothing', async () => {
    const root = await folder([
      { relativePath: 'S4A01/20250909_092000.WAV', size: 3000 },
      { relativePath: 'DRY1/20240301_235959.WAV', size: 100 },
      { relativePath: 'DRY1/20240229_000000.WAV', size: 100 },
      { relativePath: 'DRY1/notes.txt', size: 5 },
      { relativePath: 'DRY2/REC-20240305-061500.flac', size: 7 },
    ]);
    const before = await listing();
    const run = await cli(['upload', root, ...target(), '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/upload\s+4\s+212 B/);
    expect(run.stdout).toMatch(/skip\s+1\s+2\.9 KiB/);
    expect(run.stdout).toMatch(/DRY1\s+3\s+205 B\s+2024-02-29T00:00:00\s+2024-03-01T23:59:59/);
    expect(run.stdout).toMatch(/DRY2\s+1\s+7 B\s+2024-03-05T06:15:00\s+2024-03-05T06:15:00/);
    // The manifest: file types, gaps and names off the sensor's usual pattern (notes.txt) per sensor.
    expect(run.stdout).toMatch(/DRY1\s+.*wav 2, txt 1\s+0\s+1/);
    expect(await listing()).toEqual(before);
    // Nothing stays open: the planning session was aborted.
    expect(await activeSessions()).toEqual([]);

    const json = await cli(['upload', root, ...target(), '--dry-run', '--json', '--include', 'DRY1/**']);
    expect(json.code).toBe(0);
    const [discovered, plan] = jsonLines(json.stdout);
    expect(discovered).toMatchObject({ type: 'discovered', files: 3, skippedByPattern: 2 });
    expect(plan).toMatchObject({ type: 'dry-run', totals: { upload: { files: 3, bytes: 205 } } });
    const excluded = await cli(['upload', root, ...target(), '--dry-run', '--json', '--exclude', '**/*.txt']);
    expect(jsonLines(excluded.stdout)[0]).toMatchObject({ files: 4, skippedByPattern: 1 });

    // The rows the dry run planned do not get in the way of the real upload.
    const real = await cli(['upload', root, ...target(), '--json', '--new-session']);
    expect(real.code).toBe(0);
    expect(jsonLines(real.stdout).find((event) => event.type === 'planned')).toMatchObject({ upload: 4, skip: 1 });
  });

  it('lists a hostile name as invalid and uploads the rest', async () => {
    const hostile = 'EVIL/song\u202Evaw.exe';
    const root = await folder([
      { relativePath: 'EVIL/20250101_000000.WAV', size: 50 },
      { relativePath: hostile, size: 50 },
      { relativePath: 'EVIL/trailing space .WAV', size: 50 },
    ]);
    const run = await cli(['upload', root, ...target()]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/1 files have names or sizes the server refuses/);
    expect(run.stdout).toContain('EVIL/song\\u202evaw.exe: contains an invisible text-direction character (U+202E)');
    const keys = [...(await listing()).keys()];
    expect(keys).toContain(`${cyclePrefix()}EVIL/20250101_000000.WAV`);
    expect(keys).toContain(`${cyclePrefix()}EVIL/trailing space .WAV`);
    expect(keys.some((key) => key.includes('\u202E'))).toBe(false);
  });

  it('resumes the same session after SIGINT without re-sending verified files', async () => {
    const count = 300;
    const size = 4096;
    const root = await folder(
      Array.from({ length: count }, (_, i) => ({ relativePath: `KILL/${String(i).padStart(4, '0')}.WAV`, size })),
    );
    const prefix = `${cyclePrefix()}KILL/`;
    const child = start(['upload', root, ...target(), '--concurrency', '1', '--json'], {
      env: { DATA_UPLOADER_SERVER: server.url, DATA_UPLOADER_TOKEN: userToken },
    });
    const done = cliFinished(child);
    // Interrupt once some objects are in the bucket, well before all are.
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const present = (await bucketListing(server, place.project, prefix)).size;
      if (present >= 20) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    child.kill('SIGINT');
    const interrupted = await done;
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(/Run the same command again to resume/);
    const sent = (await bucketListing(server, place.project, prefix)).size;
    expect(sent).toBeLessThan(count);
    const [planned] = jsonLines(interrupted.stdout).filter((event) => event.type === 'planned');
    expect(planned).toMatchObject({ upload: count });

    // The interrupted session is still active, and its finished files were confirmed on the way out.
    const active = await activeSessions();
    expect(active).toHaveLength(1);
    const sessionId = active[0]?.id as string;
    const confirmed = (await sessionRow(server, sessionId)).filesDone;
    expect(confirmed).toBeGreaterThan(0);

    // A dry run now plans inside the interrupted session and leaves it active, moving nothing.
    const dry = await cli(['upload', root, ...target(), '--json', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(jsonLines(dry.stdout)[1]).toMatchObject({
      type: 'dry-run',
      sessionId,
      totals: { skip: { files: confirmed }, upload: { files: count - confirmed } },
    });
    expect((await activeSessions()).map((row) => row.id)).toEqual([sessionId]);
    expect((await bucketListing(server, place.project, prefix)).size).toBe(sent);

    const resumed = await cli(['upload', root, ...target(), '--json']);
    expect(resumed.code).toBe(0);
    const events = jsonLines(resumed.stdout);
    expect(events.find((event) => event.type === 'planned')).toMatchObject({
      skip: confirmed,
      upload: count - confirmed,
    });
    const end = events.find((event) => event.type === 'finished') as Record<string, unknown>;
    expect(end.sessionId).toBe(sessionId);
    expect(end.bytesSent).toBe((count - confirmed) * size);
    const row = await sessionRow(server, sessionId);
    expect(row).toMatchObject({ status: 'completed', filesDone: count, filesFailed: 0 });
    expect((await bucketListing(server, place.project, prefix)).size).toBe(count);
  });

  /** The session's filesDone once it has not changed for a second. */
  async function settledFilesDone(sessionId: string): Promise<number> {
    let last = -1;
    for (;;) {
      const now = (await sessionRow(server, sessionId)).filesDone;
      if (now === last) return now;
      last = now;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  it('resumes after SIGKILL: files confirmed before the kill are skipped, the rest completes', async () => {
    const count = 450;
    const size = 1024;
    const root = await folder(
      Array.from({ length: count }, (_, i) => ({ relativePath: `NINE/${String(i).padStart(4, '0')}.WAV`, size })),
    );
    const child = start(['upload', root, ...target(), '--concurrency', '2', '--json'], {
      env: { DATA_UPLOADER_SERVER: server.url, DATA_UPLOADER_TOKEN: userToken },
    });
    const done = cliFinished(child);
    // The driver confirms every 200 files or 2 s; kill once the ledger holds a first batch, before all are sent.
    let confirmed = 0;
    let sessionId = '';
    for (const deadline = Date.now() + 30_000; confirmed === 0 && Date.now() < deadline; ) {
      const [active] = await activeSessions();
      if (active) ({ id: sessionId, filesDone: confirmed } = active);
      if (confirmed === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    expect((await done).code).toBeNull();
    // A confirm the CLI sent just before it died is still carried out by the server: wait until the count settles.
    confirmed = await settledFilesDone(sessionId);
    expect(confirmed).toBeGreaterThan(0);
    expect(confirmed).toBeLessThan(count);

    // A dry run now plans inside the interrupted session and leaves it active, moving nothing.
    const prefix = `${cyclePrefix()}NINE/`;
    const sent = (await bucketListing(server, place.project, prefix)).size;
    const dry = await cli(['upload', root, ...target(), '--json', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(jsonLines(dry.stdout)[1]).toMatchObject({
      type: 'dry-run',
      sessionId,
      totals: { skip: { files: confirmed }, upload: { files: count - confirmed } },
    });
    expect((await activeSessions()).map((row) => row.id)).toEqual([sessionId]);
    expect((await bucketListing(server, place.project, prefix)).size).toBe(sent);

    const resumed = await cli(['upload', root, ...target(), '--json']);
    expect(resumed.code).toBe(0);
    const events = jsonLines(resumed.stdout);
    expect(events.find((event) => event.type === 'planned')).toMatchObject({
      skip: confirmed,
      upload: count - confirmed,
    });
    const end = events.find((event) => event.type === 'finished') as Record<string, unknown>;
    expect(end.sessionId).toBe(sessionId);
    expect(end.bytesSent).toBe((count - confirmed) * size);
    expect(await sessionRow(server, sessionId)).toMatchObject({
      status: 'completed',
      filesDone: count,
      filesFailed: 0,
    });
  });

  it('continues an interrupted multipart file from the parts S3 already holds', async () => {
    const size = 16 * MiB; // parts of 5, 5, 5 and 1 MiB
    const root = await folder([{ relativePath: 'BIG/20250601_000000.WAV', size }]);
    const prefix = `${cyclePrefix()}BIG/`;
    const child = start(['upload', root, ...target(), '--concurrency', '1', '--json'], {
      env: { DATA_UPLOADER_SERVER: server.url, DATA_UPLOADER_TOKEN: userToken },
    });
    const done = cliFinished(child);
    let partsBefore = 0;
    for (const deadline = Date.now() + 30_000; partsBefore === 0 && Date.now() < deadline; ) {
      partsBefore = (await bucketState(server, place.project, prefix)).uploads[0]?.parts.length ?? 0;
      if (partsBefore === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGINT');
    expect((await done).code).toBe(130);
    const state = await bucketState(server, place.project, prefix);
    expect(state.objects).toEqual([]);
    const held = state.uploads[0]?.parts.length ?? 0;
    expect(held).toBeGreaterThanOrEqual(1);
    expect(held).toBeLessThan(4);

    const resumed = await cli(['upload', root, ...target(), '--json']);
    expect(resumed.code).toBe(0);
    const events = jsonLines(resumed.stdout);
    expect(events.find((event) => event.type === 'planned')).toMatchObject({ resume: 1, upload: 0 });
    expect((events.find((event) => event.type === 'finished') as Record<string, unknown>).bytesSent).toBe(
      size - held * 5 * MiB,
    );
    expect(await objectSha256(server, place.project, `${prefix}20250601_000000.WAV`)).toBe(
      createHash('sha256')
        .update(await readFile(path.join(root, 'BIG/20250601_000000.WAV')))
        .digest('hex'),
    );
  });

  it('a dry run keeps the parts of a multipart file that an earlier, finished session left resumable', async () => {
    const size = 7 * MiB;
    const relativePath = 'PARTS/20250701_000000.WAV';
    const root = await folder([{ relativePath, size }]);
    const bytes = await readFile(path.join(root, relativePath));
    // An earlier session sent part 1 of 2, recorded the file as failed and finished: the ledger keeps its uploadId.
    const api = apiClient(server.url, { token: userToken });
    const earlier = await api.uploads.begin.mutate({
      projectId: place.project.id,
      cycleId: place.cycle.id,
      source: 'cli',
    });
    const [entry] = (await api.uploads.plan.mutate({ sessionId: earlier.id, files: [{ relativePath, size }] })).files;
    if (entry?.decision !== 'upload') throw new Error(`planned ${entry?.decision}`);
    const create = await api.uploads.sign.mutate({ sessionId: earlier.id, method: 'POST', key: entry.key });
    const uploadId = await createMultipartUpload(create.url, create.headers, {});
    const { urls } = await api.uploads.signBatch.mutate({
      sessionId: earlier.id,
      requests: [{ key: entry.key, uploadId, partNumber: 1 }],
    });
    expect(
      (await sendTo(urls[0] as { url: string; headers: Record<string, string> }, 'PUT', bytes.subarray(0, 5 * MiB)))
        .status,
    ).toBe(200);
    await api.uploads.fail.mutate({ sessionId: earlier.id, files: [{ key: entry.key, error: 'network gone' }] });
    await api.uploads.finish.mutate({ sessionId: earlier.id });

    const dry = await cli(['upload', root, ...target(), '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(jsonLines(dry.stdout)[1]).toMatchObject({ totals: { resume: { files: 1, bytes: size } } });
    const after = await bucketState(server, place.project, `${cyclePrefix()}PARTS/`);
    expect(after.uploads).toEqual([{ key: entry.key, uploadId, parts: [expect.objectContaining({ partNumber: 1 })] }]);
    expect(await activeSessions()).toEqual([]);

    const real = await cli(['upload', root, ...target(), '--json']);
    expect(real.code).toBe(0);
    const events = jsonLines(real.stdout);
    expect(events.find((event) => event.type === 'planned')).toMatchObject({ resume: 1 });
    expect((events.find((event) => event.type === 'finished') as Record<string, unknown>).bytesSent).toBe(2 * MiB);
    expect(await objectSha256(server, place.project, entry.key)).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('names the choices for an unknown project and refuses bad usage with exit 2', async () => {
    const root = await folder([{ relativePath: 'X/a.WAV', size: 1 }]);
    const unknown = await cli(['upload', root, '--project', 'Nope', '--cycle', 'C1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Project "Nope" not found. Choices:');
    expect(unknown.stderr).toContain(place.project.name);
    const noCycle = await cli(['upload', root, '--project', place.project.name, '--cycle', 'C9']);
    expect(noCycle.code).toBe(2);
    expect(noCycle.stderr).toContain(`${place.cycle.name} [open]`);
    expect((await cli(['upload', path.join(root, 'missing'), ...target()])).code).toBe(2);
    expect((await cli(['upload', root, ...target(), '--concurrency', '0'])).code).toBe(2);
    expect((await cli(['upload', root, ...target(), '--frobnicate'])).code).toBe(2);
    const down = await cli(['projects'], { env: { DATA_UPLOADER_SERVER: await closedPortUrl() } });
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/Cannot reach the server at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it('runs a job file of the earlier Python tool and refuses one with an unknown field', async () => {
    const root = await folder([{ relativePath: 'JOB1/20250505_050505.WAV', size: 64 }]);
    const job = {
      local_directory: root,
      bucket_name: place.project.bucket,
      s3_prefix: `${place.cycle.s3Prefix}/`,
      max_workers: 4,
      aws_region: place.project.region,
      times_to_retry: 2,
      aws_profile: 'field',
      use_find: true,
    };
    const jobFile = path.join(root, '..', `${path.basename(root)}-job.json`);
    folders.push(jobFile);
    await writeFile(jobFile, JSON.stringify(job));
    const run = await cli(['upload', '--config', jobFile]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/"aws_profile" .* no longer applies/);
    expect(run.stderr).toMatch(/"use_find" .* no longer applies/);
    expect((await listing()).has(`${cyclePrefix()}JOB1/20250505_050505.WAV`)).toBe(true);

    await writeFile(jobFile, JSON.stringify({ ...job, delete_after_upload: true }));
    const refused = await cli(['upload', '--config', jobFile]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('delete_after_upload');
  });

  it('lists projects, cycles and sessions', async () => {
    const projects = await cli(['projects', '--json']);
    expect(JSON.parse(projects.stdout).projects.map((p: { name: string }) => p.name)).toEqual([place.project.name]);
    const cycles = await cli(['cycles', '--project', place.project.name]);
    expect(cycles.stdout).toContain(place.cycle.s3Prefix);
    const sessions = await cli(['sessions', '--json', '--limit', '3']);
    const list = JSON.parse(sessions.stdout).sessions as Array<{ source: string }>;
    expect(list).toHaveLength(3);
    expect(list.every((s) => s.source === 'cli')).toBe(true);
    const table = await cli(['sessions']);
    expect(table.stdout.split('\n')[0]).toMatch(/^STARTED\s+SOURCE/);
  });
});

describe('data-uploader verify', { timeout: 120_000 }, () => {
  it('after an upload: the ledger holds each file’s SHA-256, and verify finds nothing wrong (exit 0)', async () => {
    const admin = apiClient(server.url, { token: await tokenOf(server, company.users.admin.id) });
    const cycle = await admin.cycles.create.mutate({ projectId: place.project.id, name: 'Verified' });
    const { root, files } = await writeFolder([
      ...Array.from({ length: 4 }, (_, i) => ({ relativePath: `S4A03/2025091${i}_000000.WAV`, size: 4000 + i })),
      { relativePath: 'S4A03/20250915_000000.WAV', size: 11 * MiB },
    ]);
    folders.push(root);
    const upload = await cli(['upload', root, '--project', place.project.name, '--cycle', cycle.name]);
    expect(upload.code).toBe(0);
    const ledger = await ledgerOf(server, cycle.id);
    expect(new Map(ledger.map((row) => [row.relativePath, row.checksum]))).toEqual(
      new Map(files.map((file) => [file.relativePath, file.sha256])),
    );

    const clean = await cli(['verify', '--project', place.project.name, '--cycle', cycle.name]);
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe(`Ledger and bucket agree for ${place.project.name} / Verified (Verified/): 5 files.\n`);
  });

  it('prints every difference and exits 1: a deleted object, one replaced with the same size, an extra one', async () => {
    const keyOf = (name: string) => `Verified/S4A03/${name}`;
    const target = server.storage.targetFor(place.project);
    const s3 = server.storage.client(target);
    await deleteObject(server, place.project, keyOf('20250910_000000.WAV'));
    await s3.send(
      new PutObjectCommand({ Bucket: target.bucket, Key: keyOf('20250911_000000.WAV'), Body: Buffer.alloc(4001) }),
    );
    await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: keyOf('stray.WAV'), Body: Buffer.alloc(7) }));

    const broken = await cli(['verify', '--project', place.project.name, '--cycle', 'verified']);
    expect(broken.stderr).toBe('');
    expect(broken.code).toBe(1);
    const lines = broken.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^DIFFERENCE\s+KEY\s+LEDGER SIZE\s+BUCKET SIZE\s+LEDGER ETAG\s+BUCKET ETAG$/);
    expect(lines.slice(1, -1).sort()).toEqual([
      expect.stringMatching(
        new RegExp(
          `^ETag differs\\s+${keyOf('20250911_000000.WAV')}\\s+3\\.9 KiB\\s+3\\.9 KiB\\s+[0-9a-f]{32}\\s+[0-9a-f]{32}$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^missing from the bucket\\s+${keyOf('20250910_000000.WAV')}\\s+3\\.9 KiB\\s+-\\s+[0-9a-f]{32}\\s+-$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(`^not in the ledger\\s+${keyOf('stray.WAV')}\\s+-\\s+7 B\\s+-\\s+[0-9a-f]{32}$`),
      ),
    ]);
    expect(lines.at(-1)).toBe(
      `3 differences for ${place.project.name} / Verified (Verified/): 1 missing from the bucket, 1 ETag differs, ` +
        '1 not in the ledger (ledger: 5 files, bucket: 5 objects).',
    );

    const json = await cli(['verify', '--project', place.project.name, '--cycle', 'Verified', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      type: 'verify',
      total: 3,
      counts: { missing: 1, sizeDiffers: 0, etagDiffers: 1, extra: 1 },
    });
  });

  it('refuses an unknown project, another company’s cycle id and a missing --cycle with exit 2', async () => {
    const unknown = await cli(['verify', '--project', 'Nope', '--cycle', 'C1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Project "Nope" not found. Choices:');
    const other = await seedCompany(server.db, 'cli-other');
    const foreign = await projectWithCycle(server, other, 'cli-other-bucket');
    const foreignCycle = await cli(['verify', '--project', place.project.name, '--cycle', foreign.cycle.id]);
    expect(foreignCycle.code).toBe(2);
    expect(foreignCycle.stderr).toContain(`Cycle "${foreign.cycle.id}" not found. Choices:`);
    const foreignProject = await cli(['verify', '--project', foreign.project.id, '--cycle', foreign.cycle.id]);
    expect(foreignProject.code).toBe(2);
    expect((await cli(['verify', '--project', place.project.name])).code).toBe(2);
  });
});
