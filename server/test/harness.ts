import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { schema } from '@data-uploader/drizzle';
import type { Role } from '@data-uploader/shared';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type AppOptions, buildApp } from '../src/app.ts';
import { hashPassword } from '../src/auth/password.ts';
import { type Config, readConfig } from '../src/config.ts';
import { Jobs } from '../src/jobs/jobs.ts';
import type { AppRouter } from '../src/router.ts';
import { Storage } from '../src/s3/storage.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export const testPassword = 'test password that is long';

export interface TestServer {
  url: string;
  database: TestDatabase;
  db: TestDatabase['db'];
  config: Config;
  storage: Storage;
  jobs: Jobs | null;
  close(): Promise<void>;
}

/**
 * The real app on a free port of 127.0.0.1, with a database of its own and, unless the env points at another
 * store, its own embedded S3 server with data in a temporary folder.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  kind: 'default' | 'pglite' = 'default',
  {
    clientDir,
    jobs: withJobs = false,
    logger,
    beforeListen,
  }: {
    clientDir?: string;
    jobs?: boolean;
    /** The app's logger options, as `pnpm start` passes them (silent without). */
    logger?: AppOptions['logger'];
    /** Called with the built app before it listens, to add a route a test needs. */
    beforeListen?: (app: FastifyInstance) => void | Promise<void>;
  } = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'du-test-'));
  const config = readConfig({ LOG_LEVEL: 'silent', DATA_DIR: dataDir, ...env });
  const [database, storage] = await Promise.all([createTestDatabase(kind), Storage.open(config)]);
  // The job queue costs a second or more to start, so only the tests of jobs ask for it.
  const jobs = withJobs
    ? await Jobs.start({ config, database, storage }, { work: true, superviseIntervalSeconds: 1 })
    : null;
  const app = await buildApp({
    config,
    db: database.db,
    storage,
    jobs,
    ...(clientDir ? { clientDir } : {}),
    ...(logger ? { logger } : {}),
  });
  await beforeListen?.(app);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    database,
    db: database.db,
    config,
    storage,
    jobs,
    async close() {
      await app.close();
      await jobs?.stop();
      await Promise.all([database.close(), storage.close()]);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ClientOptions {
  cookie?: string;
  token?: string;
  origin?: string;
}

/**
 * A tRPC client over real HTTP, as a browser or the CLI would be. It keeps the session cookie the server
 * sets (a tiny cookie jar), so `login` followed by other calls behaves like a browser tab.
 */
export function apiClient(baseUrl: string, options: ClientOptions = {}) {
  const jar = { cookie: options.cookie };
  const client = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${baseUrl}/trpc`,
        headers: () => ({
          ...(jar.cookie ? { cookie: jar.cookie } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.origin ? { origin: options.origin } : {}),
        }),
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          for (const setCookie of response.headers.getSetCookie()) {
            const [pair] = setCookie.split(';');
            if (pair?.startsWith('du_session=')) jar.cookie = pair.endsWith('=') ? undefined : pair;
          }
          return response;
        },
      }),
    ],
  });
  jars.set(client, jar);
  return client;
}

// The tRPC client is a proxy that answers every property with a procedure path, so the jar lives beside it.
const jars = new WeakMap<object, { cookie?: string }>();

/** The session cookie (`du_session=…`) a client currently carries. */
export function cookieOf(client: object): string | undefined {
  return jars.get(client)?.cookie;
}

export type ApiClient = ReturnType<typeof apiClient>;

export interface SeededCompany {
  companyId: string;
  users: Record<Role, { id: string; username: string }>;
}

/**
 * A company with one person of each role, passwords already changed, written straight to the database
 * so tests start from a known state quickly. The first one seeded gets the operator flag if asked.
 */
export async function seedCompany(
  db: TestDatabase['db'],
  slug: string,
  { operator = false } = {},
): Promise<SeededCompany> {
  const passwordHash = await hashPassword(testPassword);
  const [company] = await db
    .insert(schema.companies)
    .values({ name: `Company ${slug}`, slug })
    .returning({ id: schema.companies.id });
  if (!company) throw new Error('no company');
  const people = await db
    .insert(schema.users)
    .values(
      (['viewer', 'user', 'admin'] as const).map((role) => ({
        companyId: company.id,
        username: `${slug}-${role}`,
        passwordHash,
        role,
        isOperator: operator && role === 'admin',
        mustChangePassword: false,
      })),
    )
    .returning({ id: schema.users.id, username: schema.users.username, role: schema.users.role });
  const users = Object.fromEntries(people.map((person) => [person.role, { id: person.id, username: person.username }]));
  return { companyId: company.id, users: users as SeededCompany['users'] };
}

/** Signs in over HTTP and returns a client that carries the session cookie. */
export async function signIn(baseUrl: string, username: string, password = testPassword): Promise<ApiClient> {
  const client = apiClient(baseUrl);
  await client.auth.login.mutate({ username, password });
  return client;
}

/** The error of a call that must fail: its code, field errors and message (throws if it succeeded). */
export async function failure(call: Promise<unknown>) {
  const error = await call.then(
    () => null,
    (caught: { data?: { code?: string; fieldErrors?: Record<string, string[]> }; message: string }) => caught,
  );
  if (!error) throw new Error('the call succeeded');
  return { code: error.data?.code, fieldErrors: error.data?.fieldErrors ?? {}, message: error.message };
}

/** The tRPC error code of a rejected call (`NOT_FOUND`, `FORBIDDEN`…), or 'OK' when it succeeded. */
export async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    if (error instanceof TRPCClientError) return String(error.data?.code ?? error.message);
    throw error;
  }
}

export async function userRow(db: TestDatabase['db'], id: string) {
  const [row] = await db.select().from(schema.users).where(eq(schema.users.id, id));
  return row;
}
