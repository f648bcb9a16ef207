import { TRPCError } from '@trpc/server';

function postgresCode(error: unknown): string | undefined {
  for (let cause = error; cause instanceof Error || (cause && typeof cause === 'object'); ) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether a write failed on a unique constraint (SQLSTATE 23505), however the driver wrapped the error. */
export function isUniqueViolation(error: unknown): boolean {
  return postgresCode(error) === '23505';
}

/** Runs a write and turns a unique-constraint violation into CONFLICT with a readable message. */
export async function unlessTaken<T>(write: () => Promise<T>, message: string): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) throw new TRPCError({ code: 'CONFLICT', message });
    throw error;
  }
}
