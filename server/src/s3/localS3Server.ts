import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { answerPreflight, setCorsHeaders } from './localS3Cors.ts';
import { expectedMd5, isPlainPut, putObjectVerified, putPartVerified } from './localS3Digest.ts';
import { checkKeySegments, parseTarget, S3Error, type S3Target, sendError } from './localS3Http.ts';
import { isFlatListing, listObjectsV2 } from './localS3List.ts';
import {
  abortUpload,
  checkUploadPart,
  completeUpload,
  findUpload,
  listParts,
  listUploads,
} from './localS3Multipart.ts';
import { isFormPost, postObject } from './localS3Post.ts';
import { checkAuthorization } from './localS3Signature.ts';
import { createS3rver, type S3rverStore } from './localS3Store.ts';

/*
 * The embedded S3 server: s3rver 3.7.1 behind a front that answers what s3rver lacks or gets wrong
 * (ListParts, ListMultipartUploads, Abort, strict Complete, presigned SigV4 checks, preflights, Content-MD5,
 * POST Object policies, a faster ListObjectsV2) and hands everything else to s3rver's Koa handler. Run as a child
 * process by localS3.ts, with --openssl-legacy-provider because s3rver encrypts ListObjectsV2 continuation tokens
 * with DES.
 */

/** What the child tells its parent over IPC (or prints, when run by hand). */
export type LocalS3Message = { type: 'listening'; port: number } | { type: 'error'; message: string };

export function createLocalS3Handler(directory: string): RequestListener {
  const s3rver = createS3rver(directory);
  const passOn = s3rver.callback();
  return (req, res) => {
    void handle(req, res, s3rver.store, passOn);
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, store: S3rverStore, passOn: RequestListener) {
  let target: S3Target | undefined;
  try {
    target = parseTarget(req);
    // Preflights carry no credentials, in S3 as here.
    if (target.bucket && req.method === 'OPTIONS') return await answerPreflight(req, res, store, target.bucket);
    // A form upload carries its authorization (a signed policy) in the body.
    if (isFormPost(req, target)) return await postObject(req, res, store, target);
    await checkAuthorization(req, target);
    checkKeySegments(target.key);
    if (!(await answerItself(req, res, store, target))) await passOn(req, res);
  } catch (error) {
    const failure = error instanceof S3Error ? error : internalError(error);
    if (res.headersSent) return void res.destroy();
    if (target?.bucket) await setCorsHeaders(req, res, store, target.bucket).catch(() => undefined);
    sendError(res, failure);
  }
}

/** Answers the requests s3rver lacks or gets wrong; false hands the request on to s3rver. */
async function answerItself(
  req: IncomingMessage,
  res: ServerResponse,
  store: S3rverStore,
  target: S3Target,
): Promise<boolean> {
  const { method, bucket, key, query } = target;
  if (key && query.has('uploadId')) {
    if (method === 'PUT') {
      const upload = await checkUploadPart(store, target); // s3rver would create an upload for any id it is sent
      const md5 = expectedMd5(req);
      if (md5 === null) return false;
      await putPartVerified(req, res, store, upload, Number(query.get('partNumber')), md5);
      return true;
    }
    if (method !== 'GET' && method !== 'DELETE' && method !== 'POST') return false;
    const upload = await findUpload(store, target);
    await setCorsHeaders(req, res, store, bucket);
    if (method === 'GET') await listParts(res, upload, query);
    else if (method === 'DELETE') await abortUpload(res, upload);
    else await completeUpload(req, res, store, upload);
    return true;
  }
  if (bucket && isFlatListing(target)) {
    await listObjectsV2(req, res, store, target);
    return true;
  }
  if (bucket && !key && method === 'GET' && query.has('uploads')) {
    await setCorsHeaders(req, res, store, bucket);
    await listUploads(res, store, bucket, query);
    return true;
  }
  if (isPlainPut(req, target)) {
    const md5 = expectedMd5(req);
    if (md5 === null) return false;
    await putObjectVerified(req, res, store, target, md5);
    return true;
  }
  return false;
}

function internalError(error: unknown): S3Error {
  console.error('local S3 server:', error);
  return new S3Error('InternalError', 'We encountered an internal error. Please try again.');
}

/** `localS3Server.ts <dataDir> [port]`: listens on 127.0.0.1 and reports the port it got. */
async function main(): Promise<void> {
  const [dataDir, portArgument = '0'] = process.argv.slice(2);
  if (!dataDir) throw new Error('usage: localS3Server.ts <dataDir> [port]');
  const directory = path.resolve(dataDir);
  await mkdir(directory, { recursive: true });
  // No request timeout: a large part over a slow link may take longer than Node's default 5 minutes.
  const server = createServer({ requestTimeout: 0 }, createLocalS3Handler(directory));
  server.on('error', (error) => {
    report({ type: 'error', message: error.message });
    process.exit(1);
  });
  server.listen(Number(portArgument), '127.0.0.1', () => {
    report({ type: 'listening', port: (server.address() as AddressInfo).port });
  });
  const shutDown = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', shutDown);
  process.once('SIGINT', shutDown);
  // The IPC channel closes when the parent exits, however it exits: never outlive it.
  process.once('disconnect', shutDown);
}

function report(message: LocalS3Message): void {
  if (process.send) process.send(message);
  else console.log(JSON.stringify(message));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    report({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });
}
