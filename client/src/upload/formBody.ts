/*
 * The body of an S3 POST Object upload, built by hand rather than with FormData: a FormData body goes through the
 * browser's blob machinery, which measured dearer per small file than the PUT it replaces; one byte array does
 * not. The request stays CORS-safelisted (POST, multipart/form-data, no other header), so no preflight goes out.
 */

import { toHex } from './hex.ts';

const encoder = new TextEncoder();

/** What goes around the file: the signed fields first, the file last (S3 ignores anything after it). */
export interface FormEnvelope {
  contentType: string;
  head: Uint8Array<ArrayBuffer>;
  tail: Uint8Array<ArrayBuffer>;
}

export function formEnvelope(fields: Record<string, string>, boundary = randomBoundary()): FormEnvelope {
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="file"\r\n`;
  head += 'Content-Type: application/octet-stream\r\n\r\n';
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    head: encoder.encode(head),
    tail: encoder.encode(`\r\n--${boundary}--\r\n`),
  };
}

/** The whole body of a file held in memory: one array, one copy. */
export function formBody(envelope: FormEnvelope, file: Uint8Array): Uint8Array<ArrayBuffer> {
  const body = new Uint8Array(envelope.head.length + file.length + envelope.tail.length);
  body.set(envelope.head, 0);
  body.set(file, envelope.head.length);
  body.set(envelope.tail, envelope.head.length + file.length);
  return body;
}

/** 32 random hex digits: no field value (keys, dates, base64, hex) can hold it by chance. */
function randomBoundary(): string {
  return `----DataUploader${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
}
