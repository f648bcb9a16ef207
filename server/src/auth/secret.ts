import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';

/**
 * A bearer secret as Lucia's current session guide builds it: `<id>.<secret>`, each 120 random bits.
 * The id finds the row; only sha256(secret) is stored and it is compared in constant time, so neither a
 * database leak nor response timing yields a usable token.
 */
export interface SecretToken {
  id: string;
  token: string;
  secretHash: Uint8Array;
}

function randomPart(): string {
  return encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(15)));
}

export function hashSecret(secret: string): Uint8Array {
  return sha256(new TextEncoder().encode(secret));
}

export function newSecretToken(prefix = ''): SecretToken {
  const id = randomPart();
  const secret = randomPart();
  return { id, token: `${prefix}${id}.${secret}`, secretHash: hashSecret(secret) };
}

const tokenShape = /^([a-z2-7]{24})\.([a-z2-7]{24})$/;

/** Splits a presented token; null when it cannot be one of ours. */
export function parseSecretToken(token: string, prefix = ''): { id: string; secret: string } | null {
  if (!token.startsWith(prefix)) return null;
  const match = tokenShape.exec(token.slice(prefix.length));
  return match ? { id: match[1] as string, secret: match[2] as string } : null;
}

export function secretMatches(secret: string, storedHash: Uint8Array): boolean {
  return constantTimeEqual(hashSecret(secret), new Uint8Array(storedHash));
}

/** A temporary password a person can type: 20 base32 characters in groups of five. */
export function generatePassword(): string {
  const raw = encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(13))).slice(0, 20);
  return raw.match(/.{5}/g)?.join('-') ?? raw;
}
