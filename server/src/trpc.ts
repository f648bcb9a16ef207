import { accessOf, judge } from '@data-uploader/shared';
import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { isForeignOrigin } from './auth/origin.ts';
import type { Context } from './context.ts';
import { describeS3Failure } from './s3/s3Failure.ts';

function fieldErrorsOf(error: ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const field = issue.path.join('.') || 'input';
    fields[field] = [...(fields[field] ?? []), issue.message.replace(/^Invalid input: /, '')];
  }
  return fields;
}

const t = initTRPC.context<Context>().create({
  // Never a stack trace in an answer, whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error }) {
    const fieldErrors = error.cause instanceof ZodError ? fieldErrorsOf(error.cause) : undefined;
    let message = shape.message;
    if (error.code === 'INTERNAL_SERVER_ERROR') message = 'Internal server error';
    if (fieldErrors) {
      message = `Invalid input: ${Object.entries(fieldErrors)
        .map(([field, messages]) => `${field}: ${messages.join(', ')}`)
        .join('; ')}`;
    }
    return {
      code: shape.code,
      message,
      data: { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path, fieldErrors },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** The permission table in `shared/` decides every call, by path; a procedure missing from it is refused. */
const enforcePermissions = t.middleware(({ ctx, path, type, next }) => {
  const { origin, host } = ctx.request;
  if (type === 'mutation' && isForeignOrigin(origin, host, ctx.config.APP_ORIGINS)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: `Cross-site request from ${origin} refused` });
  }
  const access = accessOf(path);
  if (!access) throw new TRPCError({ code: 'FORBIDDEN', message: `${path} is not in the permission table` });
  switch (judge(access, ctx.user)) {
    case 'allowed':
      return next();
    case 'unauthenticated':
      throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first (session expired, revoked or invalid)' });
    case 'passwordChangeRequired':
      throw new TRPCError({ code: 'FORBIDDEN', message: 'Change your temporary password first (auth.changePassword)' });
    case 'forbidden':
      throw new TRPCError({ code: 'FORBIDDEN', message: `Your role may not call ${path}` });
  }
});

/** A call that failed in S3 says what went wrong there (a missing bucket, refused credentials), not just "500". */
const explainS3Failures = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR') {
    const explained = describeS3Failure(result.error.cause);
    if (explained) throw new TRPCError({ ...explained, cause: result.error.cause });
  }
  return result;
});

export const publicProcedure = t.procedure.use(enforcePermissions).use(explainS3Failures);

/** Narrows the context to a signed-in person; which role is needed comes from the permission table. */
export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first' });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

export type AuthedContext = Context & { user: NonNullable<Context['user']> };
