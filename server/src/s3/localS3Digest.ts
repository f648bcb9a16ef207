import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setCorsHeaders } from './localS3Cors.ts';
import { requireBucket, S3Error, type S3Target } from './localS3Http.ts';
import type { Upload } from './localS3Multipart.ts';
import type { S3rverStore } from './localS3Store.ts';

/*
 * PutObject and UploadPart that carry a Content-MD5 header. s3rver stores any body without looking at the
 * header; S3 refuses a body whose MD5 differs with 400 BadDigest and keeps what it had. So the front receives
 * such a body into a file next to where it will live, hashing it on the way, and only a body that matches is
 * moved into place (a rename, no second copy). A body cut short is dropped the same way. Requests without
 * the header (browsers) still go to s3rver as before.
 */

/** The expected MD5 in hex, null when the request has no Content-MD5; InvalidDigest when it is not an MD5. */
export function expectedMd5(req: IncomingMessage): string | null {
  const header = req.headers['content-md5'];
  if (header === undefined) return null;
  const digest = Buffer.from(typeof header === 'string' ? header : '', 'base64');
  if (digest.length !== 16 || digest.toString('base64') !== header) {
    throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was not valid.');
  }
  return digest.toString('hex');
}

/**
 * A plain PutObject: a key, and no sub-resource (?tagging, ?acl…) or copy in the request. The query may hold
 * the signer's X-Amz-* parameters and the SDK's `x-id=PutObject`.
 */
export function isPlainPut(req: IncomingMessage, target: S3Target): boolean {
  return (
    target.method === 'PUT' &&
    target.key !== '' &&
    req.headers['x-amz-copy-source'] === undefined &&
    [...target.query.keys()].every((name) => name === 'x-id' || name.toLowerCase().startsWith('x-amz-'))
  );
}

/** Receives the body into `file` and answers its MD5; nothing is left behind if it breaks off. */
async function receive(req: IncomingMessage, file: string): Promise<string> {
  const hash = createHash('md5');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(req, hashing, createWriteStream(file));
  } catch (error) {
    await rm(file, { force: true });
    if (req.readableAborted || req.destroyed) {
      throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length.');
    }
    throw error;
  }
  return hash.digest('hex');
}

/** Receives a body into a fresh file in `dir`, refusing it unless its MD5 is `md5`; answers the file. */
async function receiveVerified(req: IncomingMessage, dir: string, md5: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `receiving-${randomBytes(8).toString('hex')}`);
  const received = await receive(req, file);
  if (received !== md5) {
    await rm(file, { force: true });
    throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  return file;
}

async function answerStored(
  req: IncomingMessage,
  res: ServerResponse,
  store: S3rverStore,
  bucket: string,
  md5: string,
) {
  await setCorsHeaders(req, res, store, bucket);
  res.writeHead(200, { ETag: `"${md5}"`, 'Content-Length': 0 });
  res.end();
}

/** UploadPart with Content-MD5, stored where s3rver keeps parts (`<N>` and then `<N>.md5`, see localS3Multipart). */
export async function putPartVerified(
  req: IncomingMessage,
  res: ServerResponse,
  store: S3rverStore,
  upload: Upload,
  partNumber: number,
  md5: string,
): Promise<void> {
  const file = await receiveVerified(req, upload.dir, md5);
  const part = path.join(upload.dir, String(partNumber));
  // A part is listed once its .md5 exists: drop the old one first, so the old MD5 never describes new bytes.
  await rm(`${part}.md5`, { force: true });
  await rename(file, part);
  await writeFile(`${part}.md5`, md5);
  await answerStored(req, res, store, upload.bucket, md5);
}

/** PutObject with Content-MD5, stored as s3rver stores objects: the bytes, then metadata and MD5. */
export async function putObjectVerified(
  req: IncomingMessage,
  res: ServerResponse,
  store: S3rverStore,
  target: S3Target,
  md5: string,
): Promise<void> {
  await requireBucket(store, target.bucket);
  const file = await receiveVerified(req, store.getResourcePath(target.bucket, undefined, 'uploads'), md5);
  const objectPath = store.getResourcePath(target.bucket, target.key, 'object');
  await mkdir(path.dirname(objectPath), { recursive: true });
  await rename(file, objectPath);
  // s3rver keeps only the headers S3 stores as metadata from these, and defaults the content type as S3 does.
  await store.putMetadata(target.bucket, target.key, { 'content-type': 'binary/octet-stream', ...req.headers }, md5);
  await answerStored(req, res, store, target.bucket, md5);
}
