/**
 * The deployment as far as it can be checked without a Docker engine: docker-compose.yml, the Dockerfile and
 * .env.example agree with each other and with the server's configuration; every Grafana dashboard and alert
 * query runs, as the read-only role grafana_reader, against the migrated schema; and the insight views (migration
 * 0002) count a small seeded ledger right.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { schema, sql, sqlRows } from '@data-uploader/drizzle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { readConfig, usesEmbeddedS3 } from '../src/config.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { seedCompany } from './harness.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFile(path.join(root, file), 'utf8');

type Row = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML and JSON documents are walked freely in these checks.
type Doc = any;

/** Names a .env.example documents, whether set (`NAME=`) or shown commented out (`# NAME=`). */
function documentedNames(envExample: string): Set<string> {
  return new Set([...envExample.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] as string));
}

/** `${NAME…}` and `$NAME` interpolated by compose; `$$` is compose's escape for the container's own shell. */
function composeVariables(compose: string): Set<string> {
  return new Set([...compose.matchAll(/(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] as string));
}

/** The `NAME=value` lines of a .env file (commented-out ones aside). */
function envValues(envFile: string): Record<string, string> {
  return Object.fromEntries([...envFile.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((match) => [match[1], match[2]]));
}

/**
 * Compose's interpolation of one value with a .env: `${NAME}`, `${NAME:-default}` (nested too), `${NAME:?message}`
 * (fails when blank), `$NAME`, and `$$` for a literal `$`.
 */
function interpolateValue(text: string, env: Record<string, string>): string {
  const escaped = '\u0000';
  let result = text.replaceAll('$$', escaped);
  const innermost = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^${}]*))?\}/;
  for (let match = innermost.exec(result); match; match = innermost.exec(result)) {
    const [whole, name = '', colon, operator, argument = ''] = match;
    const value = env[name];
    const missing = colon ? !value : value === undefined;
    if (operator === '?' && missing) throw new Error(`${name}: ${argument}`);
    result = result.replace(whole, () => (operator === '-' && missing ? argument : (value ?? '')));
  }
  result = result.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => env[name] ?? '');
  return result.replaceAll(escaped, '$');
}

/** A parsed compose file with every string value interpolated, as compose does after reading the YAML. */
function interpolateCompose(doc: Doc, env: Record<string, string>): Doc {
  if (typeof doc === 'string') return interpolateValue(doc, env);
  if (Array.isArray(doc)) return doc.map((item) => interpolateCompose(item, env));
  if (doc && typeof doc === 'object') {
    return Object.fromEntries(Object.entries(doc).map(([key, value]) => [key, interpolateCompose(value, env)]));
  }
  return doc;
}

const isSecret = (name: string) => /PASSWORD|SECRET/.test(name);

/** docker-compose.yml as compose would run it with .env.example, each blank secret filled in. */
async function loadCompose(): Promise<Doc> {
  const env = envValues(await read('.env.example'));
  const secrets = Object.keys(env).filter(isSecret);
  const filled = { ...env, ...Object.fromEntries(secrets.map((name) => [name, `${name.toLowerCase()}-value`])) };
  return interpolateCompose(parseYaml(await read('docker-compose.yml')), filled);
}

/** The variables server/src/config.ts reads: the keys of its zod `environment` object. */
async function serverVariables(): Promise<string[]> {
  const source = await read('server/src/config.ts');
  const start = source.indexOf('const environment = z.object({');
  const block = source.slice(start, source.indexOf('\n});', start));
  const names = [...block.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1] as string);
  expect(names.length).toBeGreaterThan(10);
  return names;
}

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions (continuation lines joined), grouped by stage. */
function dockerStages(dockerfile: string): Instruction[][] {
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
  const stages: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

describe('docker-compose.yml and .env.example', () => {
  let compose: Doc;
  let composeText: string;
  let envExample: string;
  beforeAll(async () => {
    composeText = await read('docker-compose.yml');
    compose = await loadCompose();
    envExample = await read('.env.example');
  });

  it('defines PostgreSQL 16, MinIO with its init job, the app built from the Dockerfile and Grafana', () => {
    const services = compose.services;
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgres', 'minio', 'minio-init', 'app', 'grafana', 'grafana-db-login']),
    );
    for (const [name, service] of Object.entries<Doc>(services)) {
      expect(service.image ?? service.build, `${name} has an image or a build`).toBeTruthy();
    }
    expect(services.postgres.image).toMatch(/^postgres:16\b/);
    expect(services.minio.image).toMatch(/^minio\/minio:/);
    expect(services.app.build).toBe('.');
  });

  it('gives PostgreSQL, MinIO, the app and Grafana health checks, and the stores volumes of their own', () => {
    for (const name of ['postgres', 'minio', 'app', 'grafana']) {
      expect(compose.services[name].healthcheck?.test, `${name} health check`).toBeTruthy();
    }
    expect(JSON.stringify(compose.services.app.healthcheck.test)).toContain('/healthz');
    const volumeOf = (service: string, target: string) =>
      (compose.services[service].volumes as string[]).find((volume) => volume.split(':')[1] === target);
    for (const [service, target] of [
      ['postgres', '/var/lib/postgresql/data'],
      ['minio', '/data'],
      ['grafana', '/var/lib/grafana'],
    ] as const) {
      const named = volumeOf(service, target)?.split(':')[0] ?? '';
      expect(Object.keys(compose.volumes), `${service} keeps ${target} in a named volume`).toContain(named);
    }
  });

  it('starts the app after PostgreSQL is healthy and the bucket is set up, and Grafana after its login exists', () => {
    expect(compose.services.app.depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
      'minio-init': { condition: 'service_completed_successfully' },
    });
    expect(compose.services['grafana-db-login'].depends_on).toMatchObject({ app: { condition: 'service_healthy' } });
    expect(compose.services.grafana.depends_on).toMatchObject({
      'grafana-db-login': { condition: 'service_completed_successfully' },
    });
    expect(String(compose.services['grafana-db-login'].command)).toMatch(/ALTER ROLE grafana_reader LOGIN PASSWORD/);
  });

  it('creates the bucket with the upload CORS rule for the app origin (GET PUT POST HEAD DELETE, ETag exposed)', () => {
    const script = String(compose.services['minio-init'].command);
    expect(script).toMatch(/mc mb --ignore-existing/);
    expect(script).toMatch(/mc cors set/);
    for (const method of ['GET', 'PUT', 'POST', 'HEAD', 'DELETE']) {
      expect(script).toContain(`<AllowedMethod>${method}</AllowedMethod>`);
    }
    expect(script).toContain('<ExposeHeader>ETag</ExposeHeader>');
    expect(script).toContain('<AllowedOrigin>$APP_PUBLIC_URL</AllowedOrigin>');
    expect(compose.services.minio.environment.MINIO_API_CORS_ALLOW_ORIGIN).toBe('http://localhost:3000');
  });

  it('documents every variable compose interpolates in .env.example', () => {
    const documented = documentedNames(envExample);
    const missing = [...composeVariables(composeText)].filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
  });

  it('documents every variable the server reads in .env.example', async () => {
    const documented = documentedNames(envExample);
    const missing = (await serverVariables()).filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
  });

  it('passes the app only variables the server reads, with values its configuration accepts', async () => {
    const read = new Set(await serverVariables());
    const environment: Record<string, unknown> = compose.services.app.environment;
    expect(Object.keys(environment).filter((name) => !read.has(name))).toEqual([]);
    const config = readConfig(
      Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, String(value)])),
    );
    expect(config).toMatchObject({
      HOST: '0.0.0.0',
      S3_ENDPOINT: 'http://minio:9000',
      APP_ORIGINS: ['http://localhost:3000'],
    });
    expect(config.DATABASE_URL).toMatch(/^postgres:\/\/uploader:.+@postgres:5432\/uploader$/);
    expect(usesEmbeddedS3(config)).toBe(false);
  });

  it('holds no secret in .env.example, and compose refuses to start without each one', () => {
    const env = envValues(envExample);
    const secrets = Object.keys(env).filter(isSecret);
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    for (const name of secrets) {
      expect(env[name], `${name} is left blank`).toBe('');
      const withoutIt = { ...env, ...Object.fromEntries(secrets.map((other) => [other, 'x'])), [name]: '' };
      expect(() => interpolateCompose(parseYaml(composeText), withoutIt), `compose requires ${name}`).toThrow(name);
    }
  });
});

describe('Dockerfile', () => {
  let stages: Instruction[][];
  let rootPackage: { packageManager: string; scripts: Record<string, string> };
  beforeAll(async () => {
    stages = dockerStages(await read('Dockerfile'));
    rootPackage = JSON.parse(await read('package.json'));
  });
  const argsOf = (stage: Instruction[], keyword: string) =>
    stage.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);

  it('builds on node:20 in stages, with the pnpm version package.json pins and a frozen lockfile', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(argsOf(stage, 'FROM')[0]).toMatch(/^node:20\b/);
    const runs = stages.flatMap((stage) => argsOf(stage, 'RUN'));
    const pnpmVersion = rootPackage.packageManager.replace(/^pnpm@/, '');
    expect(runs).toContain(`npm i -g pnpm@${pnpmVersion}`);
    expect(runs).toContain('pnpm install --frozen-lockfile');
  });

  it('builds the client with the build script package.json defines, the one `pnpm start` runs first', () => {
    const runs = stages.flatMap((stage) => argsOf(stage, 'RUN'));
    expect(runs).toContain('pnpm build');
    const [clientBuild] = (rootPackage.scripts.start ?? '').split('&&');
    expect(rootPackage.scripts.build).toContain('--filter @data-uploader/client build');
    expect(clientBuild).toContain('--filter @data-uploader/client build');
  });

  it('runs the server with the start command of package.json, as a non-root user, with a health check', () => {
    const final = stages.at(-1) ?? [];
    const serverCommand = (rootPackage.scripts.start ?? '').split('&&').at(-1)?.trim();
    const [cmd] = argsOf(final, 'CMD');
    expect((JSON.parse(cmd ?? '[]') as string[]).join(' ')).toBe(serverCommand);
    const [user] = argsOf(final, 'USER');
    expect(user).toBeTruthy();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(argsOf(final, 'HEALTHCHECK')[0]).toContain('/healthz');
    expect(argsOf(final, 'ENV').join(' ')).toContain('HOST=0.0.0.0');
  });

  it('leaves dependencies, local data and .env out of the build context', async () => {
    const ignored = (await read('.dockerignore')).split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', 'data', '.env']));
  });
});

/** Panel and variable queries of every dashboard, and the alert rules' data queries. */
async function grafanaQueries() {
  const folder = path.join(root, 'grafana/dashboards');
  const dashboards: Array<{ file: string; doc: Doc }> = [];
  for (const file of (await readdir(folder)).filter((name) => name.endsWith('.json')).sort()) {
    dashboards.push({ file, doc: JSON.parse(await readFile(path.join(folder, file), 'utf8')) });
  }
  const alerting = parseYaml(await read('grafana/provisioning/alerting/stalled-sessions.yaml'));
  return { dashboards, alerting };
}

function panelsOf(doc: Doc): Doc[] {
  return (doc.panels ?? []).flatMap((panel: Doc) => [panel, ...panelsOf(panel)]);
}

const sqlList = (values: string[]) =>
  values.length ? values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', ') : 'NULL';

/**
 * A query as Grafana would send it: time macros over a wide range, each dashboard variable as its "All" (every
 * value its own query found, quoted and comma-separated).
 */
function interpolate(query: string, variables: Record<string, string[]>): string {
  const expanded = query
    .replace(
      /\$__timeFilter\(([^)]+)\)/g,
      (_, column: string) => `${column} BETWEEN '2000-01-01T00:00:00Z'::timestamptz AND now() + interval '1 day'`,
    )
    .replace(/\$__timeFrom\(\)/g, "'2000-01-01T00:00:00Z'::timestamptz")
    .replace(/\$__timeTo\(\)/g, 'now()')
    .replace(/\$\{?([a-z][a-z0-9_]*)\}?/gi, (match, name: string) => {
      const values = variables[name];
      return values ? sqlList(values) : match;
    });
  if (expanded.includes('$')) throw new Error(`a macro or variable this test does not know:\n${expanded}`);
  return expanded;
}

/** The relations a query reads (after FROM and JOIN). */
const relationsOf = (query: string) =>
  [...query.matchAll(/\b(?:from|join)\s+"?([a-z_][a-z0-9_.]*)"?/gi)].map((match) => match[1] as string);

describe('insight views, Grafana dashboards and alerting', () => {
  let database: TestDatabase;
  const at = (iso: string) => new Date(iso);
  const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

  /** Rows of a query run the way Grafana runs it: as grafana_reader. */
  async function asGrafana(query: string): Promise<Row[]> {
    return database.db.transaction(async (tx) => {
      await tx.execute(sql`set local role grafana_reader`);
      return sqlRows<Row>(tx, sql.raw(query));
    });
  }

  const rows = (query: string) => sqlRows<Row>(database.db, sql.raw(query));
  const numbers = (row: Row | undefined, ...columns: string[]) =>
    Object.fromEntries(columns.map((column) => [column, row?.[column] === null ? null : Number(row?.[column])]));

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    const company = await seedCompany(db, 'insight');
    const userId = company.users.user.id;
    const [project, emptyProject] = await db
      .insert(schema.projects)
      .values([
        { companyId: company.companyId, name: 'Wetlands', bucket: 'field-data', region: 'us-east-1', keyPrefix: 'w' },
        { companyId: company.companyId, name: 'Forest', bucket: 'field-data', region: 'us-east-1', keyPrefix: 'f' },
      ])
      .returning();
    if (!project || !emptyProject) throw new Error('no project');
    const [c1, c2] = await db
      .insert(schema.cycles)
      .values([
        { projectId: project.id, name: 'C1', s3Prefix: 'C1', createdAt: at('2025-09-01T00:00:00Z') },
        { projectId: project.id, name: 'C2', s3Prefix: 'C2', createdAt: at('2025-10-01T00:00:00Z') },
      ])
      .returning();
    if (!c1 || !c2) throw new Error('no cycle');
    const session = (cycleId: string, values: Partial<typeof schema.uploadSessions.$inferInsert>) => ({
      companyId: company.companyId,
      projectId: project.id,
      cycleId,
      userId,
      source: 'browser' as const,
      ...values,
    });
    const [stalled, running, finished] = await db
      .insert(schema.uploadSessions)
      .values([
        session(c1.id, { label: 'card A', filesTotal: 4, filesDone: 2, bytesTotal: 6010, bytesDone: 3000 }),
        session(c2.id, { label: 'card B', filesTotal: 100, filesDone: 50, bytesTotal: 10_000, bytesDone: 5000 }),
        session(c2.id, { label: 'card C', status: 'completed_with_errors', filesTotal: 3, filesDone: 2 }),
      ])
      .returning();
    if (!stalled || !running || !finished) throw new Error('no session');
    // Times written after the insert: started_at and last_activity_at default to now().
    const { uploadSessions } = schema;
    await db.execute(
      sql`update ${uploadSessions} set created_at = ${ago(3600).toISOString()}::timestamptz,
          last_activity_at = ${ago(1800).toISOString()}::timestamptz where id = ${stalled.id}`,
    );
    await db.execute(
      sql`update ${uploadSessions} set created_at = ${ago(100).toISOString()}::timestamptz where id = ${running.id}`,
    );
    const file = (
      cycleId: string,
      sessionId: string,
      relativePath: string,
      size: number,
      lastModified: string,
      values: Partial<typeof schema.files.$inferInsert> = {},
    ) => ({
      cycleId,
      sessionId,
      relativePath,
      s3Key: `w/${relativePath}`,
      size,
      lastModified: at(lastModified),
      ...values,
    });
    const completed = (iso: string) => ({ status: 'completed' as const, completedAt: at(iso) });
    await db.insert(schema.files).values([
      file(c1.id, stalled.id, '950349/20250909_092000.WAV', 1000, '2025-09-09T09:20:00Z', {
        sensorSerial: '950349',
        contentType: 'audio/wav',
        ...completed('2025-09-10T10:00:00Z'),
      }),
      file(c1.id, stalled.id, '950349/20250910_092000.WAV', 2000, '2025-09-10T09:20:00Z', {
        contentType: 'audio/wav',
        ...completed('2025-09-10T11:00:00Z'),
      }),
      file(c1.id, stalled.id, '950350/20250909_092000.wav', 3000, '2025-09-09T23:59:00Z', {
        status: 'failed',
        error: 'network lost',
        attempts: 3,
        claimedAt: at('2025-09-10T12:00:00Z'),
      }),
      file(c1.id, stalled.id, 'notes.txt', 10, '2025-09-09T08:00:00Z', { contentType: 'text/plain' }),
      file(c2.id, finished.id, '950349/20251009_092000.WAV', 1500, '2025-10-09T09:20:00Z', {
        contentType: 'audio/wav',
        ...completed('2025-10-10T01:00:00Z'),
      }),
      file(c2.id, finished.id, 'CAM1/IMG_0001.JPG', 5000, '2025-10-09T12:00:00Z', {
        contentType: 'image/jpeg',
        ...completed('2025-10-10T02:00:00Z'),
      }),
      file(c2.id, finished.id, 'CAM1/README', 7, '2025-10-09T12:00:00Z', {
        status: 'failed',
        error: 'file vanished',
        claimedAt: at('2025-10-11T05:00:00Z'),
      }),
    ]);
  });
  afterAll(() => database?.close());

  describe('the views', () => {
    it('show live sessions with progress, files per second and the time since their last activity', async () => {
      const live = await rows('select * from v_live_sessions order by label');
      expect(live.map((row) => row.label)).toEqual(['card A', 'card B']);
      const [cardA, cardB] = live;
      expect(numbers(cardA, 'files_done', 'files_total', 'files_percent', 'bytes_percent')).toEqual({
        files_done: 2,
        files_total: 4,
        files_percent: 50,
        bytes_percent: 49.9,
      });
      expect(Number(cardA?.seconds_since_activity)).toBeGreaterThanOrEqual(1800);
      expect(Number(cardA?.seconds_since_activity)).toBeLessThan(1900);
      // 50 files in the ~100 s since card B started.
      expect(Number(cardB?.files_per_second)).toBeGreaterThan(0.35);
      expect(Number(cardB?.files_per_second)).toBeLessThanOrEqual(0.5);
      expect(cardB).toMatchObject({ company: 'insight', project: 'Wetlands', cycle: 'C2', username: 'insight-user' });
    });

    it('count as stalled only the active session silent for 10 minutes', async () => {
      const stalled = await rows('select label, minutes_idle from v_stalled_sessions');
      expect(stalled.map((row) => row.label)).toEqual(['card A']);
      expect(Number(stalled[0]?.minutes_idle)).toBeGreaterThanOrEqual(30);
    });

    it('list failed ledger rows with their project, cycle, session and error', async () => {
      const failures = await rows('select project, cycle, session_label, relative_path, error from v_failures');
      expect(failures).toEqual(
        expect.arrayContaining([
          {
            project: 'Wetlands',
            cycle: 'C1',
            session_label: 'card A',
            relative_path: '950350/20250909_092000.wav',
            error: 'network lost',
          },
          {
            project: 'Wetlands',
            cycle: 'C2',
            session_label: 'card C',
            relative_path: 'CAM1/README',
            error: 'file vanished',
          },
        ]),
      );
      expect(failures).toHaveLength(2);
    });

    it('total files, bytes, completed and failed per cycle, project and bucket', async () => {
      const cycles = await rows('select * from v_cycle_totals order by cycle');
      const columns = [
        'files',
        'bytes',
        'files_completed',
        'bytes_completed',
        'files_failed',
        'files_pending',
        'sensors',
      ];
      expect(cycles.map((row) => numbers(row, ...columns))).toEqual([
        {
          files: 4,
          bytes: 6010,
          files_completed: 2,
          bytes_completed: 3000,
          files_failed: 1,
          files_pending: 1,
          sensors: 1,
        },
        {
          files: 3,
          bytes: 6507,
          files_completed: 2,
          bytes_completed: 6500,
          files_failed: 1,
          files_pending: 0,
          sensors: 2,
        },
      ]);
      const projects = await rows('select * from v_project_totals order by project');
      expect(
        projects.map((row) => ({ project: row.project, ...numbers(row, 'cycles', ...columns.slice(0, 6)) })),
      ).toEqual([
        {
          project: 'Forest',
          cycles: 0,
          files: 0,
          bytes: 0,
          files_completed: 0,
          bytes_completed: 0,
          files_failed: 0,
          files_pending: 0,
        },
        {
          project: 'Wetlands',
          cycles: 2,
          files: 7,
          bytes: 12_517,
          files_completed: 4,
          bytes_completed: 9500,
          files_failed: 2,
          files_pending: 1,
        },
      ]);
      const [bucket, ...others] = await rows('select * from v_bucket_totals');
      expect(others).toEqual([]);
      expect({ bucket: bucket?.bucket, ...numbers(bucket, 'projects', 'files', 'bytes_completed') }).toEqual({
        bucket: 'field-data',
        projects: 2,
        files: 7,
        bytes_completed: 9500,
      });
    });

    it('compare each cycle with the previous one of its project', async () => {
      const comparison = await rows('select * from v_cycle_comparison order by cycle_number');
      expect(comparison.map((row) => [row.cycle, row.previous_cycle])).toEqual([
        ['C1', null],
        ['C2', 'C1'],
      ]);
      expect(numbers(comparison[1], 'files_change', 'bytes_change', 'sensors_change')).toEqual({
        files_change: 0,
        bytes_change: 3500,
        sensors_change: 1,
      });
    });

    it('give completed and failed files per day with the success rate', async () => {
      const days = await rows(
        'select day::text as day, files_completed, files_failed, success_percent from v_daily_success order by day',
      );
      expect(
        days.map((row) => ({ day: row.day, ...numbers(row, 'files_completed', 'files_failed', 'success_percent') })),
      ).toEqual([
        { day: '2025-09-10', files_completed: 2, files_failed: 1, success_percent: 66.67 },
        { day: '2025-10-10', files_completed: 2, files_failed: 0, success_percent: 100 },
        { day: '2025-10-11', files_completed: 0, files_failed: 1, success_percent: 0 },
      ]);
    });

    it('group files by lower-case extension and content type', async () => {
      const types = await rows(
        'select extension, sum(files) as files from v_file_types group by extension order by extension',
      );
      expect(types.map((row) => [row.extension, Number(row.files)])).toEqual([
        ['(none)', 1],
        ['jpg', 1],
        ['txt', 1],
        ['wav', 4],
      ]);
      const wav = await rows(
        "select content_type, sum(files) as files from v_file_types where extension = 'wav' group by content_type order by 1",
      );
      expect(wav.map((row) => [row.content_type, Number(row.files)])).toEqual([
        ['(unknown)', 1],
        ['audio/wav', 3],
      ]);
    });

    it('count files per sensor (serial, else first folder) per UTC day of last modification', async () => {
      const coverage = await rows(
        "select sensor, day::text as day, files, files_arrived from v_sensor_coverage where cycle = 'C1' order by sensor, day",
      );
      expect(coverage.map((row) => [row.sensor, row.day, Number(row.files), Number(row.files_arrived)])).toEqual([
        ['(no sensor folder)', '2025-09-09', 1, 0],
        ['950349', '2025-09-09', 1, 1],
        ['950349', '2025-09-10', 1, 1],
        ['950350', '2025-09-09', 1, 0],
      ]);
    });

    it('are all grafana_reader may read: no table of the schema', async () => {
      await expect(asGrafana('select * from v_project_totals')).resolves.toHaveLength(2);
      await expect(asGrafana('select * from files')).rejects.toThrow();
      await expect(asGrafana('select * from users')).rejects.toThrow();
    });
  });

  describe('Grafana', () => {
    it('provisions the datasource from the environment compose gives Grafana, as grafana_reader', async () => {
      const provisioning = parseYaml(await read('grafana/provisioning/datasources/uploader.yaml'));
      const [datasource] = provisioning.datasources;
      expect(datasource).toMatchObject({ uid: 'uploader-db', type: 'grafana-postgresql-datasource' });
      const grafana = (await loadCompose()).services.grafana;
      const used = [...JSON.stringify(datasource).matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((match) => match[1]);
      expect(used).toEqual(
        expect.arrayContaining(['GRAFANA_DB_HOST', 'GRAFANA_DB_NAME', 'GRAFANA_DB_USER', 'GRAFANA_DB_PASSWORD']),
      );
      for (const name of used) expect(grafana.environment, `grafana gets ${name}`).toHaveProperty(name as string);
      expect(grafana.environment.GRAFANA_DB_USER).toBe('grafana_reader');
    });

    it('loads the dashboards from the folder compose mounts', async () => {
      const provider = parseYaml(await read('grafana/provisioning/dashboards/uploader.yaml')).providers[0];
      const mounts = (await loadCompose()).services.grafana.volumes as string[];
      expect(mounts).toContain(`./grafana/dashboards:${provider.options.path}:ro`);
      expect(mounts).toContain('./grafana/provisioning:/etc/grafana/provisioning:ro');
    });

    it('has dashboards for every insight the issue asks for, each panel on the views through the provisioned datasource', async () => {
      const { dashboards } = await grafanaQueries();
      const uids = dashboards.map(({ doc }) => doc.uid);
      expect(new Set(uids).size).toBe(uids.length);
      const panels = dashboards.flatMap(({ doc }) => panelsOf(doc));
      const views = new Set<string>();
      for (const panel of panels) {
        expect(panel.datasource?.uid, panel.title).toBe('uploader-db');
        for (const target of panel.targets ?? []) {
          expect(target.rawSql, panel.title).toBeTruthy();
          for (const relation of relationsOf(target.rawSql)) views.add(relation);
        }
      }
      expect([...views].filter((relation) => !relation.startsWith('v_'))).toEqual([]);
      expect([...views].sort()).toEqual(
        expect.arrayContaining([
          'v_bucket_totals',
          'v_cycle_comparison',
          'v_cycle_totals',
          'v_daily_success',
          'v_failures',
          'v_file_types',
          'v_live_sessions',
          'v_project_totals',
          'v_sensor_coverage',
          'v_stalled_sessions',
        ]),
      );
      expect(panels.some((panel) => panel.type === 'heatmap')).toBe(true);
    });

    it('runs every variable and panel query, as grafana_reader, against the migrated schema', async () => {
      const { dashboards } = await grafanaQueries();
      let ran = 0;
      for (const { file, doc } of dashboards) {
        const variables: Record<string, string[]> = {};
        for (const variable of doc.templating?.list ?? []) {
          const found = await asGrafana(interpolate(variable.query, variables));
          variables[variable.name] = found.map((row) => String(Object.values(row)[0]));
          expect(variables[variable.name]?.length, `${file}: variable ${variable.name} finds values`).toBeGreaterThan(
            0,
          );
        }
        for (const panel of panelsOf(doc)) {
          for (const target of panel.targets ?? []) {
            const query = interpolate(target.rawSql, variables);
            await expect(asGrafana(query), `${file}: ${panel.title}`).resolves.toBeInstanceOf(Array);
            ran++;
          }
        }
      }
      expect(ran).toBeGreaterThanOrEqual(15);
    });

    it('feeds the coverage heat-map time, sensor and files arrived', async () => {
      const { dashboards } = await grafanaQueries();
      const heatmap = dashboards.flatMap(({ doc }) => panelsOf(doc)).find((panel) => panel.type === 'heatmap');
      const query = interpolate(heatmap.targets[0].rawSql, {
        company: ['insight'],
        project: ['Wetlands'],
        cycle: ['C1'],
      });
      const cells = await asGrafana(query);
      expect(cells.map((cell) => [cell.metric, Number(cell.value)])).toEqual([
        ['(no sensor folder)', 0],
        ['950349', 1],
        ['950350', 0],
        ['950349', 1],
      ]);
    });

    it('alerts on each stalled session, with one number per row and the text columns as unique labels', async () => {
      const { alerting } = await grafanaQueries();
      const [rule] = alerting.groups[0].rules;
      expect(rule.title).toMatch(/stalled/i);
      const query = rule.data.find((step: Doc) => step.datasourceUid === 'uploader-db').model;
      expect(query.format).toBe('table');
      expect(relationsOf(query.rawSql)).toEqual(['v_stalled_sessions']);
      const instances = await asGrafana(interpolate(query.rawSql, {}));
      expect(instances).toHaveLength(1);
      for (const instance of instances) {
        const values = Object.values(instance);
        expect(values.filter((value) => typeof value === 'number')).toHaveLength(1);
        expect(values.filter((value) => typeof value !== 'number').every((value) => typeof value === 'string')).toBe(
          true,
        );
      }
      const threshold = rule.data.find((step: Doc) => step.refId === rule.condition).model;
      expect(threshold).toMatchObject({ type: 'threshold', expression: query.refId });
      expect(threshold.conditions[0].evaluator).toEqual({ type: 'gt', params: [10] });
    });
  });
});
