import type { Db } from '@data-uploader/drizzle';
// The cookie plugin's type augmentation must be visible wherever FastifyRequest is used, including the
// client's typecheck, which reaches this file through the router type.
import type {} from '@fastify/cookie';
import type { CreateFastifyContextOptions } from '@trpc/server/adapters/fastify';
import { validateApiToken } from './auth/apiTokens.ts';
import { sessionCookieName, validateSessionToken } from './auth/sessions.ts';
import type { CurrentUser } from './auth/user.ts';
import type { Config } from './config.ts';
import type { Storage } from './s3/storage.ts';

/** What procedures ask of the background job queue (jobs/jobs.ts), named here so the router's type stays small. */
export interface JobQueue {
  enqueueImport(jobId: string): Promise<void>;
  sessionFinished(sessionId: string): Promise<void>;
}

export type Credential = { kind: 'session'; id: string } | { kind: 'token'; id: string };

export interface RequestInfo {
  address: string;
  userAgent: string;
  origin?: string;
  host?: string;
  secure: boolean;
}

/** Sets and clears the session cookie; absent when procedures are called without HTTP (createCaller). */
export interface SessionCookie {
  set(token: string, expiresAt: Date): void;
  clear(): void;
}

export interface Context {
  db: Db;
  config: Config;
  storage: Storage;
  user: CurrentUser | null;
  credential: Credential | null;
  request: RequestInfo;
  cookie: SessionCookie | null;
  /** The job queue, when this server runs one (imports, webhooks); tests without it get a clear refusal. */
  jobs: JobQueue | null;
}

export interface ContextInput {
  db: Db;
  config: Config;
  storage: Storage;
  user?: CurrentUser | null;
  credential?: Credential | null;
  request?: Partial<RequestInfo>;
  cookie?: SessionCookie | null;
  jobs?: JobQueue | null;
}

/** The context without HTTP, as tests build it. */
export function createContextInner(input: ContextInput): Context {
  return {
    db: input.db,
    config: input.config,
    storage: input.storage,
    user: input.user ?? null,
    credential: input.credential ?? null,
    request: { address: '127.0.0.1', userAgent: '', secure: false, ...input.request },
    cookie: input.cookie ?? null,
    jobs: input.jobs ?? null,
  };
}

/** Any `Authorization: Bearer …` is a token attempt, even an empty or malformed one: it never falls back to the cookie. */
function bearerToken(header: string | undefined): string | undefined {
  if (!header || !/^bearer(\s|$)/i.test(header)) return undefined;
  return header.slice('bearer'.length).trim();
}

async function authenticate(db: Db, req: CreateFastifyContextOptions['req']) {
  const bearer = bearerToken(req.headers.authorization);
  if (bearer !== undefined) {
    const valid = await validateApiToken(db, bearer);
    return valid && { user: valid.user, credential: { kind: 'token', id: valid.tokenId } as const, renewed: null };
  }
  const token = req.cookies[sessionCookieName];
  if (!token) return null;
  const valid = await validateSessionToken(db, token);
  return (
    valid && {
      user: valid.user,
      credential: { kind: 'session', id: valid.sessionId } as const,
      renewed: valid.renewed ? { token, expiresAt: valid.expiresAt } : null,
    }
  );
}

export function contextFactory(db: Db, config: Config, storage: Storage, jobs: JobQueue | null = null) {
  return async ({ req, res }: CreateFastifyContextOptions): Promise<Context> => {
    const secure = req.protocol === 'https';
    const cookie: SessionCookie = {
      set: (token, expiresAt) =>
        res.setCookie(sessionCookieName, token, {
          httpOnly: true,
          sameSite: 'lax',
          secure,
          path: '/',
          expires: expiresAt,
        }),
      clear: () => res.clearCookie(sessionCookieName, { httpOnly: true, sameSite: 'lax', secure, path: '/' }),
    };
    const auth = await authenticate(db, req);
    if (auth?.renewed) cookie.set(auth.renewed.token, auth.renewed.expiresAt);
    return {
      db,
      config,
      storage,
      user: auth?.user ?? null,
      credential: auth?.credential ?? null,
      request: {
        address: req.ip,
        userAgent: req.headers['user-agent'] ?? '',
        origin: req.headers.origin,
        host: req.headers.host,
        secure,
      },
      cookie,
      jobs,
    };
  };
}
