import { TRPCClientError } from '@trpc/client';

interface ErrorData {
  code?: string;
  fieldErrors?: Record<string, string[]>;
}

function dataOf(error: unknown): ErrorData | undefined {
  return error instanceof TRPCClientError ? (error.data as ErrorData | undefined) : undefined;
}

/** A sentence a person can act on, for any error a call to the server can end with. */
export function errorMessage(error: unknown): string {
  if (error instanceof TRPCClientError) {
    if (!error.data && /fetch|network/i.test(error.message))
      return 'The server cannot be reached; check the connection';
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The server's complaint about one input field, if it had one. */
export function fieldError(error: unknown, field: string): string | undefined {
  return dataOf(error)?.fieldErrors?.[field]?.join(', ');
}

export function isUnauthorized(error: unknown): boolean {
  return dataOf(error)?.code === 'UNAUTHORIZED';
}
