import { existsSync } from 'node:fs';
import type { Db } from '@data-uploader/drizzle';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import { sql } from 'drizzle-orm';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { apiReferencePage, apiReferenceStyleHash } from './apiReferencePage.ts';
import type { Config } from './config.ts';
import { contentSecurityPolicy, uploadOrigins } from './contentSecurityPolicy.ts';
import { contextFactory, type JobQueue } from './context.ts';
import { logRedaction } from './logRedaction.ts';
import { openApiDocument } from './openapi.ts';
import { type AppRouter, appRouter } from './router.ts';
import { describeS3Failure } from './s3/s3Failure.ts';
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

const MiB = 1024 * 1024;
// The largest legitimate call, a plan batch of 5,000 files whose keys are at S3's 1 KiB limit, is under
// 6 MiB of JSON (server/test/hardening.test.ts measures it); anything over this is refused with 413.
const bodyLimit = 8 * MiB;

/** Builds the Fastify app; nothing listens until the caller says so. */
export async function buildApp({ config, db, storage, logger = false, clientDir, jobs = null }: AppOptions) {
  const requestTimeout = config.REQUEST_TIMEOUT_SECONDS * 1000;
  const app = Fastify({
    logger: logger && typeof logger === 'object' ? { ...logRedaction, ...logger } : logger,
    // A 300k-file upload makes hundreds of thousands of signing calls; errors are logged, not every request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    trustProxy: config.TRUST_PROXY,
    // tRPC batches put every procedure name in the path; Fastify's default of 100 answers 414.
    routerOptions: { maxParamLength: 5000 },
    // Against slow clients: headers and body must arrive whole within REQUEST_TIMEOUT_SECONDS (Node checks
    // every few seconds, not once every 30 as by default). The answer has no such limit; a silent socket is
    // closed only after 10 minutes, because a reconcile of a very large cycle can think for a while.
    requestTimeout,
    http: { headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(5000, requestTimeout / 2) },
    connectionTimeout: 600_000,
    // Longer than the idle timeout of common load balancers (60 s), so they never reuse a closed connection.
    keepAliveTimeout: 72_000,
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413) {
      return reply.code(413).send({
        statusCode: 413,
        code: error.code,
        error: 'Payload Too Large',
        message: `Request body over ${bodyLimit / MiB} MiB: send at most 5,000 files or URLs per call`,
      });
    }
    if (status < 500) return reply.code(status).send(error);
    request.log.error({ err: error }, 'request failed');
    return reply
      .code(status)
      .send({ statusCode: status, error: 'Internal Server Error', message: 'Internal server error' });
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: contentSecurityPolicy(uploadOrigins(config, storage.embedded?.endpoint), [apiReferenceStyleHash]),
    },
  });
  await app.register(cookie);
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      createContext: contextFactory(db, config, storage, jobs),
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') {
          app.log.error({ err: error.cause ?? error, path }, 'procedure failed');
        } else if (describeS3Failure(error.cause)) {
          // The caller was told what S3 said; the operator who has to fix the bucket reads it here.
          app.log.warn({ err: error.cause, path }, 'S3 refused or failed a procedure');
        }
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
