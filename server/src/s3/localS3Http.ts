import type { IncomingMessage, ServerResponse } from 'node:http';
import { XMLBuilder } from 'fast-xml-parser';
import type { S3rverStore } from './localS3Store.ts';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const STATUS: Record<string, number> = {
  AccessDenied: 403,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  BadRequest: 400,
  CORSResponse: 403,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidDigest: 400,
  InvalidPart: 400,
  InvalidPolicyDocument: 400,
  InvalidPartOrder: 400,
  InvalidRequest: 400,
  MalformedPOSTRequest: 400,
  MalformedXML: 400,
  MaxMessageLengthExceeded: 400,
  NoSuchBucket: 404,
  NoSuchUpload: 404,
  SignatureDoesNotMatch: 403,
};

/** An S3 error the front answers itself. Handlers throw it; the dispatcher turns it into S3's XML shape. */
export class S3Error extends Error {
  readonly status: number;

  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.status = STATUS[code] ?? 500;
  }
}

/** What a path-style request addresses, decoded once so every module sees the same bucket and key. */
export interface S3Target {
  method: string;
  /** The path exactly as received (still percent-encoded): SigV4 signs this form. */
  rawPath: string;
  bucket: string;
  key: string;
  /** Decoded query; `+` stays `+` (SigV4 clients encode spaces as %20). */
  query: Map<string, string>;
}

export function parseTarget(req: IncomingMessage): S3Target {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const rawPath = queryStart === -1 ? url : url.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? '' : url.slice(queryStart + 1);
  const [rawBucket = '', ...rawKey] = rawPath.slice(1).split('/');
  const query = new Map<string, string>();
  for (const pair of rawQuery.split('&')) {
    if (!pair) continue;
    const equals = pair.indexOf('=');
    const name = equals === -1 ? pair : pair.slice(0, equals);
    query.set(decode(name), equals === -1 ? '' : decode(pair.slice(equals + 1)));
  }
  return { method: req.method ?? 'GET', rawPath, bucket: decode(rawBucket), key: decode(rawKey.join('/')), query };
}

/** The bucket a request names, or NoSuchBucket as S3 answers it. */
export async function requireBucket(store: S3rverStore, bucket: string): Promise<void> {
  if (!isPlainName(bucket) || !(await store.getBucket(bucket))) {
    throw new S3Error('NoSuchBucket', 'The specified bucket does not exist');
  }
}

/** s3rver joins keys onto its folder: a key with a "." or ".." segment would be stored outside the data folder. */
export function checkKeySegments(key: string): void {
  if (key.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new S3Error('InvalidArgument', 'Keys with "." or ".." path segments are not supported here.');
  }
}

/** A bucket name or key segment that cannot leave the data folder once joined to it. */
export function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\\');
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidArgument', 'The request URI contains an invalid percent-encoding.');
  }
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' });

export function toXml(document: object): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(document)}`;
}

export function sendXml(res: ServerResponse, status: number, document: object): void {
  const body = toXml(document);
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendError(res: ServerResponse, error: S3Error): void {
  sendXml(res, error.status, { Error: { Code: error.code, Message: error.message } });
}

/** Buffers a small request body (a CompleteMultipartUpload document), refusing anything over `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new S3Error('MaxMessageLengthExceeded', 'Your request was too big.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
