import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id minimum (19 MiB, 2 passes): ~40 ms here, so sign-in stays quick while guessing stays slow.
const argon2Options = { memoryCost: 19456, timeCost: 2, outputLen: 32, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, argon2Options);
}

let decoyHash: Promise<string> | undefined;

/**
 * Verifies a password against a stored hash. For an unknown user (no hash) it verifies against a decoy
 * so that the answer takes the same time and a stranger cannot tell which usernames exist.
 */
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (storedHash === undefined) {
    decoyHash ??= hashPassword('decoy password for unknown users');
    await verify(await decoyHash, password);
    return false;
  }
  return verify(storedHash, password);
}
