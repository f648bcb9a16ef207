import { TRPCClientError } from '@trpc/client';

/** The exit codes scripts and cron jobs rely on (README: command-line uploader). */
export const exitCodes = { ok: 0, filesFailed: 1, usage: 2, auth: 3, interrupted: 130 } as const;

/** A failure the person can act on: one sentence, and the exit code that classifies it. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, exitCodes.usage);
export const authError = (message: string) => new CliError(message, exitCodes.auth);

/**
 * Turns what the API or the network threw into one clear sentence: a refused token is an authentication
 * error (3), a server that cannot be reached or a missing project a configuration error (2).
 */
export function explain(error: unknown, server?: string): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof TRPCClientError) {
    const code = String(error.data?.code ?? '');
    if (code === 'UNAUTHORIZED') {
      return authError(`The server refused the credentials (${error.message}); run "data-uploader login" again.`);
    }
    if (code === 'FORBIDDEN' || code === 'NOT_FOUND' || code === 'BAD_REQUEST' || code === 'PRECONDITION_FAILED') {
      return usageError(error.message);
    }
    // No `data` means the request never got a tRPC answer: the server is down, or the URL is wrong.
    if (!code) return usageError(`Cannot reach the server${server ? ` at ${server}` : ''}: ${causeOf(error)}.`);
    return new CliError(`The server answered ${code}: ${error.message}`, exitCodes.filesFailed);
  }
  return new CliError(error instanceof Error ? error.message : String(error), exitCodes.filesFailed);
}

function causeOf(error: Error): string {
  const cause = (error.cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? error.message;
}
