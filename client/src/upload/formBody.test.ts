import { describe, expect, it } from 'vitest';
import { formBody, formEnvelope } from './formBody.ts';

/** Reads a body back with the platform's own multipart parser, as a server would. */
async function parsed(contentType: string, body: Uint8Array<ArrayBuffer>) {
  return new Response(body, { headers: { 'content-type': contentType } }).formData();
}

describe('formBody', () => {
  it('reads back as the same fields, in order, and the file byte for byte', async () => {
    const fields = {
      key: 'C1/S4A01 (copy)/ünïcödé "quoted".WAV',
      policy: 'eyJ4Ijoi=',
      'x-amz-signature': 'ab'.repeat(32),
    };
    const file = crypto.getRandomValues(new Uint8Array(20_000));
    const envelope = formEnvelope(fields);
    const form = await parsed(envelope.contentType, formBody(envelope, file));
    expect([...form.keys()]).toEqual(['key', 'policy', 'x-amz-signature', 'file']);
    for (const [name, value] of Object.entries(fields)) expect(form.get(name)).toBe(value);
    const sent = form.get('file') as File;
    expect(new Uint8Array(await sent.arrayBuffer())).toEqual(file);
  });

  it('keeps an empty file empty, and ends the body with the closing boundary', async () => {
    const envelope = formEnvelope({ key: 'a' }, 'B0undary');
    const body = formBody(envelope, new Uint8Array());
    expect(new TextDecoder().decode(body).endsWith('\r\n--B0undary--\r\n')).toBe(true);
    const sent = (await parsed(envelope.contentType, body)).get('file') as File;
    expect(sent.size).toBe(0);
  });

  it('gives every body a boundary of its own', () => {
    const boundaries = new Set(Array.from({ length: 100 }, () => formEnvelope({}).contentType));
    expect(boundaries.size).toBe(100);
  });
});
