import { describe, expect, it } from 'vitest';
import { toHex } from './hex.ts';

describe('toHex', () => {
  it('writes every byte as two lower-case digits, in order', () => {
    expect(toHex(new Uint8Array([0, 1, 15, 16, 127, 128, 254, 255]))).toBe('00010f107f80feff');
    expect(toHex(new Uint8Array())).toBe('');
  });

  it('agrees with the platform on a SHA-256 digest', async () => {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc')));
    expect(toHex(digest)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
