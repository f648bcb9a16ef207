import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { setCorsHeaders } from './localS3Cors.ts';
import { checkKeySegments, requireBucket, S3_XMLNS, S3Error, type S3Target, sendXml } from './localS3Http.ts';
import { checkPolicySignature } from './localS3Signature.ts';
import type { S3rverStore } from './localS3Store.ts';

/*
 * POST Object (browser form uploads, SigV4 policies) as S3 checks it. s3rver accepts such a form without looking
 * at its policy at all, so the front answers it: the policy's signature, its expiry, every condition against the
 * form's fields, and the file's size against content-length-range, before anything is stored.
 */

/** A form POST to a bucket, which the front answers itself. */
export function isFormPost(req: IncomingMessage, target: S3Target): boolean {
  const type = req.headers['content-type'] ?? '';
  return (
    target.method === 'POST' && target.key === '' && target.query.size === 0 && /^multipart\/form-data/i.test(type)
  );
}

/** Fields no condition has to name (S3's list), besides those starting with x-ignore-. */
const UNCONDITIONED = new Set(['policy', 'x-amz-signature', 'file']);
const MAX_FIELD_BYTES = 20 * 1024;

type Condition = { field: string; test: (value: string) => boolean; text: string } | { range: [number, number] };

export async function postObject(
  req: IncomingMessage,
  res: ServerResponse,
  store: S3rverStore,
  target: S3Target,
): Promise<void> {
  const { bucket } = target;
  await requireBucket(store, bucket);
  const fields = new Map<string, string>([['bucket', bucket]]);
  const stored = await new Promise<{ key: string; md5: string; status: number }>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fieldSize: MAX_FIELD_BYTES, fields: 50, files: 1, parts: 51 },
      });
    } catch {
      return reject(
        new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.'),
      );
    }
    let sawFile = false;
    const fail = (error: unknown) => {
      req.unpipe(parser);
      req.resume(); // the rest of the body is read and dropped, so the answer reaches the client
      reject(error);
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new S3Error('MaxMessageLengthExceeded', 'Your request was too big.'));
      // S3 reads field names case-insensitively; anything after the file is ignored, as S3 does.
      if (!sawFile && name.toLowerCase() !== 'bucket') fields.set(name.toLowerCase(), value);
    });
    parser.on('file', (name, file) => {
      if (sawFile || name.toLowerCase() !== 'file') return void file.resume();
      sawFile = true;
      storeFile(file, fields, store, bucket).then(resolve, fail);
    });
    parser.on('filesLimit', () =>
      fail(new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.')),
    );
    parser.on('error', () =>
      fail(
        new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.'),
      ),
    );
    parser.on('close', () => {
      if (!sawFile) fail(new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.'));
    });
    req.pipe(parser);
  });
  await setCorsHeaders(req, res, store, bucket);
  const etag = `"${stored.md5}"`;
  const location = `/${bucket}/${stored.key.split('/').map(encodeURIComponent).join('/')}`;
  if (stored.status === 201) {
    res.setHeader('ETag', etag);
    res.setHeader('Location', location);
    sendXml(res, 201, {
      PostResponse: { '@_xmlns': S3_XMLNS, Location: location, Bucket: bucket, Key: stored.key, ETag: etag },
    });
    return;
  }
  res.writeHead(stored.status, { ETag: etag, Location: location, 'Content-Length': 0 });
  res.end();
}

/** Checks the policy against the fields read so far (all of them: the file comes last), then stores the file. */
async function storeFile(file: Readable, fields: Map<string, string>, store: S3rverStore, bucket: string) {
  let range: [number, number] | null;
  let key: string;
  try {
    range = await checkPolicy(fields);
    key = fields.get('key') ?? '';
    if (key === '') throw new S3Error('InvalidArgument', "Bucket POST must contain a field named 'key'.");
    checkKeySegments(key);
  } catch (error) {
    file.resume();
    throw error;
  }
  const uploads = store.getResourcePath(bucket, undefined, 'uploads');
  const received = path.join(uploads, `receiving-${randomBytes(8).toString('hex')}`);
  const hash = createHash('md5');
  let size = 0;
  try {
    // Blocking file calls: each is short (a chunk busboy handed over, a rename, a 32-byte file), and with small
    // forms the thread pool's hand-offs cost more than the calls (S3 CPU per 16 KiB form, median of 3 alternated
    // runs of 5,000: 2.97 ms with fs/promises, 2.49 ms so).
    const output = createIn(uploads, received);
    try {
      for await (const chunk of file as AsyncIterable<Buffer>) {
        size += chunk.length;
        // Refused as soon as it is too big, not after storing all of it.
        if (range && size > range[1]) throw tooLarge();
        hash.update(chunk);
        writeSync(output, chunk);
      }
    } finally {
      closeSync(output);
    }
    if (range && size < range[0]) {
      throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size');
    }
  } catch (error) {
    file.resume();
    rmSync(received, { force: true });
    throw error;
  }
  const md5 = hash.digest('hex');
  const objectPath = store.getResourcePath(bucket, key, 'object');
  moveInto(received, objectPath);
  const contentType = fields.get('content-type');
  if (contentType) {
    await store.putMetadata(bucket, key, { 'content-type': contentType }, md5);
  } else {
    // s3rver answers binary/octet-stream, as S3 does, for an object without a metadata file: not writing one
    // saves a file per small upload. One left by the object this replaces would give its old Content-Type.
    writeFileSync(store.getResourcePath(bucket, key, 'object.md5'), md5);
    rmSync(store.getResourcePath(bucket, key, 'metadata.json'), { force: true });
  }
  const status = Number(fields.get('success_action_status'));
  return { key, md5, status: status === 200 || status === 201 ? status : 204 };
}

/**
 * Folders this process made or found: thousands of small files land in a few sensor folders, and a mkdir per
 * file was a fifth of the embedded server's time for them. A folder removed since (an emptied bucket) is made
 * again when a rename into it fails.
 */
const knownFolders = new Set<string>();

function ensureFolder(folder: string, again = false) {
  if (knownFolders.has(folder) && !again) return;
  mkdirSync(folder, { recursive: true });
  if (knownFolders.size > 10_000) knownFolders.clear();
  knownFolders.add(folder);
}

/** Opens a new file in `folder`, making the folder (again) when it is not there. */
function createIn(folder: string, file: string): number {
  ensureFolder(folder);
  try {
    return openSync(file, 'w');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    ensureFolder(folder, true);
    return openSync(file, 'w');
  }
}

function moveInto(received: string, objectPath: string) {
  const folder = path.dirname(objectPath);
  ensureFolder(folder);
  try {
    renameSync(received, objectPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    ensureFolder(folder, true);
    renameSync(received, objectPath);
  }
}

function tooLarge(): S3Error {
  return new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
}

/** SigV4 policy check; answers the content-length-range, if the policy has one. */
async function checkPolicy(fields: Map<string, string>): Promise<[number, number] | null> {
  const encoded = fields.get('policy');
  if (!encoded) throw new S3Error('AccessDenied', 'Access Denied');
  if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') {
    throw new S3Error('InvalidArgument', 'POST form fields must include x-amz-algorithm AWS4-HMAC-SHA256.');
  }
  await checkPolicySignature(encoded, fields.get('x-amz-credential') ?? '', fields.get('x-amz-signature') ?? '');
  const policy = parsePolicy(encoded);
  if (Date.now() > policy.expiration) throw policyFailed('Policy expired.');
  let range: [number, number] | null = null;
  const named = new Set<string>();
  for (const condition of policy.conditions) {
    if ('range' in condition) {
      range = condition.range;
      continue;
    }
    named.add(condition.field);
    if (!condition.test(fields.get(condition.field) ?? '')) {
      throw policyFailed(`Policy Condition failed: ${condition.text}`);
    }
  }
  for (const name of fields.keys()) {
    if (name === 'bucket' || UNCONDITIONED.has(name) || name.startsWith('x-ignore-') || named.has(name)) continue;
    throw policyFailed(`Extra input fields: ${name}`);
  }
  return range;
}

function parsePolicy(encoded: string): { expiration: number; conditions: Condition[] } {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    throw new S3Error('InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
  const { expiration, conditions } = (document ?? {}) as { expiration?: unknown; conditions?: unknown };
  const expires = typeof expiration === 'string' ? Date.parse(expiration) : Number.NaN;
  if (Number.isNaN(expires)) throw new S3Error('InvalidPolicyDocument', "Invalid Policy: Invalid 'expiration' value.");
  if (!Array.isArray(conditions)) throw new S3Error('InvalidPolicyDocument', "Invalid Policy: Invalid 'conditions'.");
  return { expiration: expires, conditions: conditions.map(parseCondition) };
}

function parseCondition(condition: unknown): Condition {
  if (Array.isArray(condition)) {
    const [operator, first, second] = condition as unknown[];
    if (operator === 'content-length-range' && Number.isInteger(first) && Number.isInteger(second)) {
      return { range: [first as number, second as number] };
    }
    if ((operator === 'eq' || operator === 'starts-with') && typeof first === 'string' && first.startsWith('$')) {
      const field = first.slice(1).toLowerCase();
      const wanted = String(second ?? '');
      const text = JSON.stringify(condition);
      return operator === 'eq'
        ? { field, test: (value) => value === wanted, text }
        : { field, test: (value) => value.startsWith(wanted), text };
    }
  } else if (condition && typeof condition === 'object' && Object.keys(condition).length === 1) {
    const [[name, wanted]] = Object.entries(condition) as [[string, unknown]];
    if (typeof wanted === 'string') {
      return { field: name.toLowerCase(), test: (value) => value === wanted, text: JSON.stringify(condition) };
    }
  }
  throw new S3Error('InvalidPolicyDocument', `Invalid Policy: Invalid Condition: ${JSON.stringify(condition)}`);
}

function policyFailed(reason: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${reason}`);
}
