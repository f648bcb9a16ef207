import { existsSync } from 'node:fs';
import type { Db } from '@data-uploader/drizzle';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import { sql } from 'drizzle-orm';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { apiReferencePage } from './apiReferencePage.ts';
import type { Config } from './config.ts';
import { contextFactory, type JobQueue } from './context.ts';
import { openApiDocument } from './openapi.ts';
import { type AppRouter, appRouter } from './router.ts';
import type { Storage } from './s3/storage.ts';

export interface AppOptions {
  config: Config;
  db: Db;
  storage: Storage;
  logger?: FastifyServerOptions['logger'];
  /** The built web app (`client/dist`); without it the server answers the API only. */
  clientDir?: string;
  /** The job queue; without it, imports and webhooks are refused with a clear message. */
  jobs?: JobQueue | null;
}

// Plan batches of 5,000 paths of up to 1 KiB each fit; anything larger is refused with 413.
const bodyLimit = 8 * 1024 * 1024;

/** Builds the Fastify app; nothing listens until the caller says so. */
export async function buildApp({ config, db, storage, logger = false, clientDir, jobs = null }: AppOptions) {
  const app = Fastify({
    logger,
    // A 300k-file upload makes hundreds of thousands of signing calls; errors are logged, not every request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    trustProxy: config.TRUST_PROXY,
    // tRPC batches put every procedure name in the path; Fastify's default of 100 answers 414.
    routerOptions: { maxParamLength: 5000 },
    // Against slow clients: a request must arrive whole within 30 s. A silent socket is closed only after
    // 10 minutes, because a reconcile of a very large cycle can think for a while before it answers.
    requestTimeout: 30_000,
    connectionTimeout: 600_000,
  });

  await app.register(cookie);
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      createContext: contextFactory(db, config, storage, jobs),
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR')
          app.log.error({ err: error.cause ?? error, path }, 'procedure failed');
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  });

  app.get('/healthz', async (_request, reply) => {
    const [dbOk, s3] = await Promise.all([
      db.execute(sql`select 1`).then(
        () => true,
        () => false,
      ),
      storage.health(),
    ]);
    const ok = dbOk && s3 === 'ok';
    return reply.code(ok ? 200 : 503).send({ ok, db: dbOk ? 'ok' : 'unreachable', s3 });
  });

  const apiDocument = openApiDocument(appRouter);
  const apiReference = apiReferencePage(apiDocument);
  app.get('/api/openapi.json', async () => apiDocument);
  app.get('/api/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(apiReference));

  if (clientDir && existsSync(clientDir)) await serveWebApp(app, clientDir);
  return app;
}

/**
 * The web app's files: hashed assets cached for good, and index.html for every other page address so that a
 * reload of /projects/… works (the app routes in the browser).
 */
async function serveWebApp(app: FastifyInstance, clientDir: string) {
  await app.register(fastifyStatic, {
    root: clientDir,
    wildcard: true,
    setHeaders(reply, path) {
      reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.setNotFoundHandler((request, reply) => {
    const isPage = request.method === 'GET' && !request.url.startsWith('/trpc') && !request.url.startsWith('/assets/');
    if (!isPage) return reply.code(404).send({ error: 'Not found' });
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
}
