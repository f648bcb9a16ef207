import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCorsCommand,
  DeleteObjectCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3, startLocalS3 } from './localS3.ts';
import { Presigner } from './presigner.ts';

const BUCKET = 'uploads';
const ORIGIN = 'http://localhost:5173';
const OTHER_ORIGIN = 'http://elsewhere.example';
const MiB = 1024 * 1024;
const CORS_RULE = {
  AllowedOrigins: [ORIGIN],
  AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD', 'DELETE'],
  AllowedHeaders: ['*'],
  ExposeHeaders: ['ETag'],
  MaxAgeSeconds: 600,
};

let dataDir: string;
let server: LocalS3;
let s3: S3Client; // header-signed, SDK defaults: what the app's own server code uses
let presigner: S3Client; // what `sign` uses for browser and CLI URLs

function clients(endpoint: string, credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }) {
  const common = { endpoint, region: 'us-east-1', forcePathStyle: true, credentials };
  return {
    s3: new S3Client(common),
    presigner: new S3Client({ ...common, requestChecksumCalculation: 'WHEN_REQUIRED' }),
  };
}

async function useServer(started: LocalS3) {
  server = started;
  ({ s3, presigner } = clients(server.endpoint));
}

/** getSignedUrl with an hour's expiry, as `sign` does; `client` swaps in other credentials. */
function presign<Input extends ServiceInputTypes, Output extends ServiceOutputTypes>(
  command: Parameters<typeof getSignedUrl<ServiceInputTypes, Input, Output>>[1],
  client = presigner,
  options: { expiresIn?: number; signingDate?: Date } = {},
): Promise<string> {
  return getSignedUrl(client, command, { expiresIn: 3600, ...options });
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');
const xml = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'Part' || name === 'Upload' });

async function errorCode(response: Response): Promise<string | undefined> {
  return xml.parse(await response.text()).Error?.Code;
}

async function exists(key: string, bucket = BUCKET): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound') return false;
    throw error;
  }
}

async function bodyOf(key: string): Promise<Uint8Array> {
  const response = await fetch(await presign(new GetObjectCommand({ Bucket: BUCKET, Key: key })));
  expect(response.status).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
}

/** A browser PUT of bytes to a presigned URL, from the app's origin. */
function browserPut(url: string, body: Uint8Array, origin = ORIGIN): Promise<Response> {
  return fetch(url, { method: 'PUT', body, headers: { Origin: origin, 'Content-Type': 'application/octet-stream' } });
}

function preflight(url: string, method: string, origin = ORIGIN, headers = 'content-type'): Promise<Response> {
  return fetch(url, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': headers },
  });
}

function completeXml(parts: Array<{ PartNumber: number; ETag: string }>): string {
  const items = parts.map(
    (part) => `<Part><PartNumber>${part.PartNumber}</PartNumber><ETag>${part.ETag}</ETag></Part>`,
  );
  const xmlns = 'http://s3.amazonaws.com/doc/2006-03-01/';
  return `<CompleteMultipartUpload xmlns="${xmlns}">${items.join('')}</CompleteMultipartUpload>`;
}

async function createUpload(key: string): Promise<string> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  if (!UploadId) throw new Error('no upload id');
  return UploadId;
}

async function uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<string> {
  const url = await presign(
    new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: partNumber }),
  );
  const response = await browserPut(url, body);
  expect(response.status).toBe(200);
  return response.headers.get('etag') ?? '';
}

function isListening(endpoint: string): Promise<boolean> {
  const { port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntilClosed(endpoint: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isListening(endpoint))) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'du-local-s3-'));
  await useServer(await startLocalS3({ dataDir, port: 0 }));
});

afterAll(async () => {
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('embedded S3 server', () => {
  it('listens on 127.0.0.1 with the fixed dummy credentials', () => {
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server).toMatchObject({ region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
  });

  it('creates a bucket and stores its CORS rule', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: [CORS_RULE] } }));
    const { CORSRules } = await s3.send(new GetBucketCorsCommand({ Bucket: BUCKET }));
    expect(CORSRules).toEqual([CORS_RULE]);
  });

  it('round-trips bytes through presigned PUT and GET, with CORS for the app origin', async () => {
    const bytes = randomBytes(3 * MiB);
    const put = await browserPut(await presign(new PutObjectCommand({ Bucket: BUCKET, Key: 'single/a.bin' })), bytes);
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe(`"${md5(bytes)}"`);
    expect(put.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(put.headers.get('access-control-expose-headers')).toContain('ETag');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'single/a.bin' }));
    expect(head.ContentLength).toBe(bytes.length);
    expect(sha256(await bodyOf('single/a.bin'))).toBe(sha256(bytes));
  });

  it('keeps header-signed SDK uploads byte-exact', async () => {
    const bytes = randomBytes(64 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'single/sdk.bin', Body: bytes }));
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'single/sdk.bin' }));
    expect(sha256((await Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha256(bytes));
  });

  describe('refuses presigned URLs that do not verify, and writes nothing', () => {
    const put = (key: string) => new PutObjectCommand({ Bucket: BUCKET, Key: key });
    const cases: Array<[string, (key: string) => Promise<string>, number, string]> = [
      [
        'a tampered signature',
        async (key) =>
          (await presign(put(key))).replace(
            /X-Amz-Signature=([0-9a-f]+)/,
            (_, s: string) => `X-Amz-Signature=${s.slice(0, -1)}${s.endsWith('0') ? '1' : '0'}`,
          ),
        403,
        'SignatureDoesNotMatch',
      ],
      [
        'a URL for another key',
        async (key) => (await presign(put('refused/granted.bin'))).replace('/refused/granted.bin', `/${key}`),
        403,
        'SignatureDoesNotMatch',
      ],
      [
        'a wrong secret',
        async (key) =>
          presign(put(key), clients(server.endpoint, { accessKeyId: 'S3RVER', secretAccessKey: 'guessed' }).presigner),
        403,
        'SignatureDoesNotMatch',
      ],
      [
        'an expired URL',
        async (key) => presign(put(key), presigner, { expiresIn: 60, signingDate: new Date(Date.now() - 3_600_000) }),
        403,
        'AccessDenied',
      ],
      [
        'an unknown access key id',
        async (key) =>
          presign(put(key), clients(server.endpoint, { accessKeyId: 'NOBODY', secretAccessKey: 'x' }).presigner),
        403,
        'InvalidAccessKeyId',
      ],
    ];
    it.each(cases)('%s', async (_, makeUrl, status, code) => {
      const key = `refused/${code}-${randomBytes(4).toString('hex')}.bin`;
      // A full part's worth of bytes: the refusal must come back cleanly even with the body unread.
      const response = await browserPut(await makeUrl(key), randomBytes(6 * MiB));
      expect(response.status).toBe(status);
      expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN); // the browser can read why
      const body = await response.text();
      expect(xml.parse(body).Error.Code).toBe(code);
      if (code === 'AccessDenied') expect(body).toContain('Request has expired');
      expect(await exists(key)).toBe(false);
      expect(await exists('refused/granted.bin')).toBe(false);
    });

    it('a part URL whose part number was changed', async () => {
      const key = 'refused/part-number.bin';
      const uploadId = await createUpload(key);
      const url = await presign(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 1 }));
      expect(url).toContain('partNumber=1&');
      const response = await browserPut(url.replace('partNumber=1&', 'partNumber=2&'), randomBytes(1024));
      expect(response.status).toBe(403);
      expect(await errorCode(response)).toBe('SignatureDoesNotMatch');
      const { Parts = [] } = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
      expect(Parts).toEqual([]);
      await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    });

    it('a request with no credentials at all', async () => {
      const response = await browserPut(`${server.endpoint}/${BUCKET}/refused/anonymous.bin`, randomBytes(16));
      expect(response.status).toBe(403);
      expect(await errorCode(response)).toBe('AccessDenied');
      expect(await exists('refused/anonymous.bin')).toBe(false);
    });

    it('a tampered ListParts or Abort URL, which the front answers itself', async () => {
      const key = 'refused/multipart.bin';
      const uploadId = await createUpload(key);
      for (const command of [
        new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }),
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }),
      ]) {
        const url = (await presign(command)).replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000');
        const response = await fetch(url, { method: command instanceof ListPartsCommand ? 'GET' : 'DELETE' });
        expect(response.status).toBe(403);
        expect(await errorCode(response)).toBe('SignatureDoesNotMatch');
      }
      const { Uploads } = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }));
      expect(Uploads?.map((upload) => upload.UploadId)).toEqual([uploadId]);
      await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    });
  });

  it('runs a browser multipart upload through presigned URLs: 5+5+1 MiB, ListParts, Complete', async () => {
    const key = 'multipart/browser.bin';
    const create = await presign(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    expect((await preflight(create, 'POST')).status).toBe(200);
    const created = await fetch(create, { method: 'POST', headers: { Origin: ORIGIN } });
    expect(created.status).toBe(200);
    expect(created.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const uploadId: string = xml.parse(await created.text()).InitiateMultipartUploadResult.UploadId;

    const chunks = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1 * MiB)];
    const etags: string[] = [];
    for (const [index, chunk] of chunks.entries()) {
      const url = await presign(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: index + 1 }),
      );
      expect((await preflight(url, 'PUT')).status).toBe(200);
      const response = await browserPut(url, chunk);
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(response.headers.get('access-control-expose-headers')).toContain('ETag');
      expect(response.headers.get('etag')).toBe(`"${md5(chunk)}"`);
      etags.push(response.headers.get('etag') ?? '');
    }

    const list = await presign(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    expect((await preflight(list, 'GET', ORIGIN, '')).status).toBe(200);
    const listed = await fetch(list, { headers: { Origin: ORIGIN } });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const { ListPartsResult } = xml.parse(await listed.text());
    expect(ListPartsResult.Part).toEqual(
      chunks.map((chunk, index) =>
        expect.objectContaining({ PartNumber: String(index + 1), ETag: etags[index], Size: String(chunk.length) }),
      ),
    );
    expect(ListPartsResult.IsTruncated).toBe('false');

    // Paged, through the SDK: what resume uses.
    const first = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MaxParts: 2 }));
    expect(first.Parts?.map((part) => part.PartNumber)).toEqual([1, 2]);
    expect(first).toMatchObject({ IsTruncated: true, NextPartNumberMarker: '2' });
    const second = await s3.send(
      new ListPartsCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MaxParts: 2,
        PartNumberMarker: first.NextPartNumberMarker,
      }),
    );
    expect(second.Parts?.map((part) => [part.PartNumber, part.ETag, part.Size])).toEqual([[3, etags[2], 1 * MiB]]);
    expect(second.IsTruncated).toBe(false);

    const complete = await presign(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }),
    );
    expect((await preflight(complete, 'POST')).status).toBe(200);
    const completed = await fetch(complete, {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/xml' },
      body: completeXml(etags.map((ETag, index) => ({ PartNumber: index + 1, ETag }))),
    });
    expect(completed.status).toBe(200);
    expect(completed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const etag: string = xml.parse(await completed.text()).CompleteMultipartUploadResult.ETag;
    expect(etag).toMatch(/^"[0-9a-f]{32}-3"$/); // S3's multipart ETag: md5 of the part MD5s, dash, part count

    const whole = Buffer.concat(chunks);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head).toMatchObject({ ContentLength: whole.length, ETag: etag });
    expect(sha256(await bodyOf(key))).toBe(sha256(whole));
    const { Uploads = [] } = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }));
    expect(Uploads).toEqual([]);
  });

  describe('CompleteMultipartUpload is as strict as S3', () => {
    const key = 'multipart/strict.bin';
    let uploadId: string;
    let etags: string[];
    const complete = (parts: Array<{ PartNumber: number; ETag: string }>) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );

    beforeAll(async () => {
      uploadId = await createUpload(key);
      etags = [
        await uploadPart(key, uploadId, 1, randomBytes(MiB)),
        await uploadPart(key, uploadId, 2, randomBytes(MiB)),
      ];
    });

    it.each([
      ['a wrong part ETag', () => [{ PartNumber: 1, ETag: `"${'0'.repeat(32)}"` }], 'InvalidPart'],
      [
        'a part never uploaded',
        () => [
          { PartNumber: 1, ETag: etags[0] ?? '' },
          { PartNumber: 3, ETag: etags[1] ?? '' },
        ],
        'InvalidPart',
      ],
      [
        'a non-last part under 5 MiB',
        () => etags.map((ETag, index) => ({ PartNumber: index + 1, ETag })),
        'EntityTooSmall',
      ],
      [
        'parts out of order',
        () => [
          { PartNumber: 2, ETag: etags[1] ?? '' },
          { PartNumber: 1, ETag: etags[0] ?? '' },
        ],
        'InvalidPartOrder',
      ],
    ])('refuses %s and keeps the upload', async (_, parts, code) => {
      await expect(complete(parts())).rejects.toMatchObject({ name: code });
      expect(await exists(key)).toBe(false);
      const { Parts } = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
      expect(Parts?.map((part) => part.ETag)).toEqual(etags);
    });

    it('completes a valid single-part list', async () => {
      const { ETag } = await complete([{ PartNumber: 1, ETag: etags[0] ?? '' }]);
      expect(ETag).toMatch(/-1"$/);
      expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ContentLength).toBe(MiB);
    });
  });

  describe('NoSuchUpload', () => {
    const unknownId = 'f'.repeat(32);

    it('for UploadPart, ListParts and Complete with an unknown upload id, creating nothing', async () => {
      const key = 'multipart/unknown.bin';
      const url = await presign(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: unknownId, PartNumber: 1 }),
      );
      const response = await browserPut(url, randomBytes(1024));
      expect(response.status).toBe(404);
      expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(await errorCode(response)).toBe('NoSuchUpload');
      await expect(
        s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: unknownId })),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
      await expect(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId: unknownId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
          }),
        ),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
      const { Uploads = [] } = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
      expect(Uploads.map((upload) => upload.UploadId)).not.toContain(unknownId);
    });

    it('for an upload id used with another key', async () => {
      const uploadId = await createUpload('multipart/owner.bin');
      await expect(
        s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'multipart/intruder.bin', UploadId: uploadId })),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
      const url = await presign(
        new UploadPartCommand({ Bucket: BUCKET, Key: 'multipart/intruder.bin', UploadId: uploadId, PartNumber: 1 }),
      );
      expect((await browserPut(url, randomBytes(16))).status).toBe(404);
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'multipart/owner.bin', UploadId: uploadId }),
      );
    });

    it('after a presigned Abort from the browser', async () => {
      const key = 'multipart/aborted.bin';
      const uploadId = await createUpload(key);
      const etag = await uploadPart(key, uploadId, 1, randomBytes(MiB));
      const abort = await presign(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
      expect((await preflight(abort, 'DELETE', ORIGIN, '')).status).toBe(200);
      const aborted = await fetch(abort, { method: 'DELETE', headers: { Origin: ORIGIN } });
      expect(aborted.status).toBe(204);
      expect(aborted.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      await expect(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] },
          }),
        ),
      ).rejects.toMatchObject({ name: 'NoSuchUpload' });
      const again = await fetch(abort, { method: 'DELETE' });
      expect(again.status).toBe(404);
      expect(await errorCode(again)).toBe('NoSuchUpload');
      expect(await exists(key)).toBe(false);
    });
  });

  it('lists in-progress uploads, filtered by prefix', async () => {
    const a = await createUpload('listing/C2/a.bin');
    const b = await createUpload('listing/D7/b.bin');
    const all = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'listing/' }));
    expect(all.Uploads?.map((upload) => [upload.Key, upload.UploadId])).toEqual([
      ['listing/C2/a.bin', a],
      ['listing/D7/b.bin', b],
    ]);
    expect(all.Uploads?.[0]?.Initiated).toBeInstanceOf(Date);
    const filtered = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'listing/D7/' }));
    expect(filtered.Uploads?.map((upload) => upload.UploadId)).toEqual([b]);
    const paged = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'listing/', MaxUploads: 1 }));
    expect(paged).toMatchObject({ IsTruncated: true, NextKeyMarker: 'listing/C2/a.bin', NextUploadIdMarker: a });
    const rest = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket: BUCKET,
        Prefix: 'listing/',
        KeyMarker: paged.NextKeyMarker,
        UploadIdMarker: paged.NextUploadIdMarker,
      }),
    );
    expect(rest.Uploads?.map((upload) => upload.UploadId)).toEqual([b]);
    for (const [key, uploadId] of [
      ['listing/C2/a.bin', a],
      ['listing/D7/b.bin', b],
    ] as const) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    }
  });

  it('pages ListObjectsV2 over 2,500 objects with continuation tokens', async () => {
    const keys = Array.from({ length: 2500 }, (_, index) => `many/${String(index).padStart(4, '0')}.txt`);
    for (let start = 0; start < keys.length; start += 50) {
      await Promise.all(
        keys.slice(start, start + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }))),
      );
    }
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/', MaxKeys: 1000, ContinuationToken: token }),
      );
      pages.push((page.Contents ?? []).map((object) => object.Key ?? ''));
      token = page.NextContinuationToken;
      expect(page.IsTruncated).toBe(token !== undefined);
    } while (token);
    expect(pages.map((page) => page.length)).toEqual([1000, 1000, 500]);
    expect(pages.flat()).toEqual(keys);
  }, 120_000);

  it('lists in S3 key order (UTF-8 bytes, folders in their place), by prefix, start-after, small pages and url encoding', async () => {
    const keys = [
      'order/b',
      'order/b-x',
      'order/b/c',
      'order/b/d/e',
      'order/bz',
      'order/é',
      'order/\u{1F680}',
      'order/\uFF5E',
    ];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }));
    const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const list = (input: Partial<ConstructorParameters<typeof ListObjectsV2Command>[0]>) =>
      s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'order/', ...input }));
    const keysOf = (page: { Contents?: Array<{ Key?: string }> }) => (page.Contents ?? []).map((item) => item.Key);
    expect(keysOf(await list({}))).toEqual(expected);
    expect(keysOf(await list({ Prefix: 'order/b' }))).toEqual([
      'order/b',
      'order/b-x',
      'order/b/c',
      'order/b/d/e',
      'order/bz',
    ]);
    expect(keysOf(await list({ StartAfter: 'order/b-x' }))).toEqual(expected.slice(2));
    const paged: Array<string | undefined> = [];
    let token: string | undefined;
    do {
      const page = await list({ MaxKeys: 3, ContinuationToken: token });
      expect(page.KeyCount).toBe(page.Contents?.length ?? 0);
      paged.push(...keysOf(page));
      token = page.NextContinuationToken;
    } while (token);
    expect(paged).toEqual(expected);
    const first = await list({});
    expect(first.Contents?.[0]).toMatchObject({ Size: 'order/b'.length, ETag: `"${md5(Buffer.from('order/b'))}"` });
    const encoded = await list({ EncodingType: 'url', Prefix: 'order/é' });
    expect(encoded.EncodingType).toBe('url');
    expect(keysOf(encoded)).toEqual(['order/%C3%A9']);
    const tampered = await fetch(
      await presign(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: 'not a token!' })),
    );
    expect([tampered.status, await errorCode(tampered)]).toEqual([400, 'InvalidArgument']);
    // Other buckets' objects, s3rver's own files and open multipart uploads are never listed.
    await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'order/b/pending' }));
    expect(keysOf(await list({}))).toEqual(expected);
  });

  it("round-trips keys with spaces, unicode and +&=;,%~' exactly", async () => {
    const keys = [
      'odd/with space/and  two.txt',
      'odd/Ünïcödé 日本語 🚀.bin',
      "odd/+&=;,%~'.txt",
      'odd/%20not-a-space%2F.txt',
      'odd/plus+plus/a+b.txt',
      'odd/deep/a/b/c/d/e/f.txt',
    ];
    for (const key of keys) {
      const body = Buffer.from(`contents of ${key}`);
      const response = await browserPut(await presign(new PutObjectCommand({ Bucket: BUCKET, Key: key })), body);
      expect(response.status, key).toBe(200);
      expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ContentLength).toBe(body.length);
      expect(Buffer.from(await bodyOf(key)).toString()).toBe(body.toString());
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'odd/' }));
    expect(listed.Contents?.map((object) => object.Key).sort()).toEqual([...keys].sort());
  });

  describe('CORS preflights', () => {
    it.each(['PUT', 'POST', 'GET', 'DELETE'])('answers %s from the allowed origin with the rule', async (method) => {
      const url = await presign(new PutObjectCommand({ Bucket: BUCKET, Key: 'cors/any.bin' }));
      const response = await preflight(url, method, ORIGIN, 'content-type, x-amz-date');
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(response.headers.get('access-control-allow-methods')?.split(', ')).toContain(method);
      expect(response.headers.get('access-control-allow-headers')).toBe('content-type, x-amz-date');
      expect(response.headers.get('access-control-max-age')).toBe('600');
      expect(response.headers.get('vary')).toContain('Origin');
    });

    it.each(['PUT', 'POST', 'GET', 'DELETE'])('refuses %s from another origin', async (method) => {
      const url = await presign(new PutObjectCommand({ Bucket: BUCKET, Key: 'cors/any.bin' }));
      const response = await preflight(url, method, OTHER_ORIGIN);
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(await errorCode(response)).toBe('CORSResponse');
    });

    it('follows the bucket rule: no DELETE allowed, no DELETE preflight; no CORS rule, no preflight', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'nodelete' }));
      await s3.send(
        new PutBucketCorsCommand({
          Bucket: 'nodelete',
          CORSConfiguration: { CORSRules: [{ ...CORS_RULE, AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD'] }] },
        }),
      );
      expect((await preflight(`${server.endpoint}/nodelete/x?uploadId=1`, 'PUT')).status).toBe(200);
      expect((await preflight(`${server.endpoint}/nodelete/x?uploadId=1`, 'DELETE')).status).toBe(403);
      await s3.send(new CreateBucketCommand({ Bucket: 'nocors' }));
      const response = await preflight(`${server.endpoint}/nocors/x`, 'PUT');
      expect(response.status).toBe(403);
      expect(xml.parse(await response.text()).Error.Message).toBe('CORS is not enabled for this bucket.');
    });

    it('answers a changed or deleted CORS rule from the next request on (the rules are kept in memory)', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'changing' }));
      const url = `${server.endpoint}/changing/x`;
      const putRule = (methods: string[]) =>
        s3.send(
          new PutBucketCorsCommand({
            Bucket: 'changing',
            CORSConfiguration: { CORSRules: [{ ...CORS_RULE, AllowedMethods: methods }] },
          }),
        );
      await putRule(['GET', 'PUT']);
      expect((await preflight(url, 'PUT')).status).toBe(200);
      expect((await preflight(url, 'DELETE')).status).toBe(403);
      await putRule(['GET', 'DELETE']);
      expect((await preflight(url, 'PUT')).status).toBe(403);
      expect((await preflight(url, 'DELETE')).status).toBe(200);
      await s3.send(new DeleteBucketCorsCommand({ Bucket: 'changing' }));
      const response = await preflight(url, 'DELETE');
      expect(response.status).toBe(403);
      expect(xml.parse(await response.text()).Error.Message).toBe('CORS is not enabled for this bucket.');
    });

    it("adds no CORS headers to the front's replies for another origin", async () => {
      const key = 'cors/other-origin.bin';
      const uploadId = await createUpload(key);
      const url = await presign(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
      const response = await fetch(url, { headers: { Origin: OTHER_ORIGIN } });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    });
  });

  describe('Content-MD5, as S3 checks it', () => {
    const base64Md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64');
    /** A URL presigned as `signBatch` does for the CLI: the body's MD5 signed in as a header. */
    const signedWithMd5 = (key: string, bytes: Uint8Array, query?: Record<string, string>) =>
      new Presigner({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }).presign(
        { bucket: BUCKET, region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true },
        { method: 'PUT', key, query, headers: { 'content-md5': base64Md5(bytes) }, expiresIn: 3600 },
      );
    /** The same bytes with one flipped: what a faulty link delivers. */
    const corrupted = (bytes: Uint8Array) => {
      const copy = new Uint8Array(bytes);
      copy[copy.length >> 1] = (copy[copy.length >> 1] ?? 0) ^ 0xff;
      return copy;
    };
    const leftovers = async () =>
      (await readdir(path.join(dataDir, BUCKET, '._S3rver_uploads'), { recursive: true })).filter((name) =>
        name.includes('receiving-'),
      );

    it('stores a PUT whose body matches, with its MD5 as ETag', async () => {
      const bytes = randomBytes(100_000);
      const { url, headers } = await signedWithMd5('md5/good.bin', bytes);
      const response = await fetch(url, { method: 'PUT', headers, body: bytes });
      expect(response.status).toBe(200);
      expect(response.headers.get('etag')).toBe(`"${md5(bytes)}"`);
      expect(sha256(await bodyOf('md5/good.bin'))).toBe(sha256(bytes));
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'md5/good.bin' }));
      expect(head.ETag).toBe(`"${md5(bytes)}"`);
      expect(head.ContentLength).toBe(bytes.length);
    });

    it('refuses a body that differs with 400 BadDigest and keeps the object it had', async () => {
      const key = 'md5/kept.bin';
      const original = randomBytes(50_000);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: original }));
      const replacement = randomBytes(50_000);
      const { url, headers } = await signedWithMd5(key, replacement);
      const response = await fetch(url, { method: 'PUT', headers, body: corrupted(replacement) });
      expect(response.status).toBe(400);
      expect(await errorCode(response)).toBe('BadDigest');
      expect(sha256(await bodyOf(key))).toBe(sha256(original));
      expect(await leftovers()).toEqual([]);
    });

    it('refuses a request that leaves the signed header out, or sends another MD5, by its signature', async () => {
      const key = 'md5/unsigned.bin';
      const bytes = randomBytes(1000);
      const { url } = await signedWithMd5(key, bytes);
      const omitted = await fetch(url, { method: 'PUT', body: bytes });
      expect(omitted.status).toBe(403);
      expect(await errorCode(omitted)).toBe('SignatureDoesNotMatch');
      const other = corrupted(bytes);
      const swapped = await fetch(url, { method: 'PUT', headers: { 'content-md5': base64Md5(other) }, body: other });
      expect(swapped.status).toBe(403);
      expect(await errorCode(swapped)).toBe('SignatureDoesNotMatch');
      expect(await exists(key)).toBe(false);
    });

    it('checks a Content-MD5 the URL did not sign too, and refuses one that is no MD5', async () => {
      const bytes = randomBytes(1000);
      const url = await presign(new PutObjectCommand({ Bucket: BUCKET, Key: 'md5/browser.bin' }));
      const wrong = await fetch(url, {
        method: 'PUT',
        headers: { 'content-md5': base64Md5(corrupted(bytes)) },
        body: bytes,
      });
      expect(wrong.status).toBe(400);
      expect(await errorCode(wrong)).toBe('BadDigest');
      const invalid = await fetch(url, { method: 'PUT', headers: { 'content-md5': 'not-an-md5' }, body: bytes });
      expect(invalid.status).toBe(400);
      expect(await errorCode(invalid)).toBe('InvalidDigest');
      expect(await exists('md5/browser.bin')).toBe(false);
      const plain = await browserPut(url, bytes); // no header at all: stored unchecked, as by S3
      expect(plain.status).toBe(200);
    });

    it('checks parts: a corrupted part is refused and not listed, the matching one completes', async () => {
      const key = 'md5/multipart.bin';
      const uploadId = await createUpload(key);
      const parts = [randomBytes(5 * MiB), randomBytes(1000)];
      const query = (partNumber: number) => ({ partNumber: String(partNumber), uploadId });
      const first = await signedWithMd5(key, parts[0] as Uint8Array, query(1));
      const refused = await fetch(first.url, {
        method: 'PUT',
        headers: first.headers,
        body: corrupted(parts[0] as Uint8Array),
      });
      expect(refused.status).toBe(400);
      expect(await errorCode(refused)).toBe('BadDigest');
      const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
      expect(listed.Parts ?? []).toEqual([]);
      const etags: string[] = [];
      for (const [index, bytes] of parts.entries()) {
        const { url, headers } = await signedWithMd5(key, bytes, query(index + 1));
        const response = await fetch(url, { method: 'PUT', headers, body: bytes });
        expect(response.status).toBe(200);
        expect(response.headers.get('etag')).toBe(`"${md5(bytes)}"`);
        etags.push(response.headers.get('etag') ?? '');
      }
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
        }),
      );
      expect(sha256(await bodyOf(key))).toBe(sha256(Buffer.concat(parts)));
      expect(await leftovers()).toEqual([]);
    });

    it('stores nothing of a body cut short', async () => {
      const key = 'md5/cut.bin';
      const bytes = randomBytes(200_000);
      const { url, headers } = await signedWithMd5(key, bytes);
      const target = new URL(url);
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(target.port), target.hostname, () => {
          socket.write(
            `PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
              `Content-MD5: ${headers['content-md5']}\r\nContent-Length: ${bytes.length}\r\n\r\n`,
          );
          socket.write(bytes.subarray(0, bytes.length / 2), () => setTimeout(() => socket.destroy(), 200));
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      // The front drops what it received once it sees the connection gone; give it a moment on a busy machine.
      await expect.poll(leftovers, { timeout: 10_000 }).toEqual([]);
      expect(await exists(key)).toBe(false);
    });
  });

  describe('POST Object: browser form uploads with a signed policy', () => {
    const formSigner = new Presigner({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
    const signedForm = (key: string, size: number, expiresIn = 3600) =>
      formSigner.presignPost(
        { bucket: BUCKET, region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true },
        { key, size, expiresIn },
      );
    /** The form as a browser sends it: the fields in order, then the file last. */
    function postForm(url: string, fields: Record<string, string>, bytes: Uint8Array, origin = ORIGIN) {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob([bytes]), 'blob');
      return fetch(url, { method: 'POST', body: form, headers: { Origin: origin } });
    }
    const policyOf = (fields: Record<string, string>) =>
      JSON.parse(Buffer.from(fields.policy ?? '', 'base64').toString()) as { conditions: unknown[] };
    const resign = (fields: Record<string, string>, policy: object) => {
      const encoded = Buffer.from(JSON.stringify(policy)).toString('base64');
      const day = (fields['x-amz-date'] ?? '').slice(0, 8);
      const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
      const signingKey = hmac(hmac(hmac(hmac('AWS4S3RVER', day), 'us-east-1'), 's3'), 'aws4_request');
      return {
        ...fields,
        policy: encoded,
        'x-amz-signature': createHmac('sha256', signingKey).update(encoded).digest('hex'),
      };
    };

    it('stores the file under the signed key, answers 204 with its ETag, and CORS lets the page read it', async () => {
      const bytes = randomBytes(40_000);
      const { url, fields } = await signedForm('form/one file+.wav', bytes.length);
      expect(url).toBe(`${server.endpoint}/${BUCKET}`);
      const response = await postForm(url, fields, bytes);
      expect(response.status).toBe(204);
      expect(response.headers.get('etag')).toBe(`"${md5(bytes)}"`);
      expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(sha256(await bodyOf('form/one file+.wav'))).toBe(sha256(bytes));
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'form/one file+.wav' }));
      expect(head).toMatchObject({ ContentLength: bytes.length, ETag: `"${md5(bytes)}"` });
    });

    it('gives an object sent without a Content-Type binary/octet-stream, also where it replaces one that had another', async () => {
      await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'form/typed.txt', Body: 'old', ContentType: 'text/plain' }),
      );
      const bytes = randomBytes(64);
      const { url, fields } = await signedForm('form/typed.txt', bytes.length);
      expect((await postForm(url, fields, bytes)).status).toBe(204);
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'form/typed.txt' }));
      expect(head).toMatchObject({ ContentType: 'binary/octet-stream', ContentLength: 64, ETag: `"${md5(bytes)}"` });
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'form/typed.txt' }));
      expect(listed.Contents?.map(({ Key, ETag, Size }) => ({ Key, ETag, Size }))).toEqual([
        { Key: 'form/typed.txt', ETag: `"${md5(bytes)}"`, Size: 64 },
      ]);
    });

    it('refuses a tampered signature, another key, another size, an extra field and an expired policy, storing nothing', async () => {
      const bytes = randomBytes(1000);
      const { url, fields } = await signedForm('form/guarded.wav', bytes.length);
      const refusals: Array<[string, Record<string, string>, Uint8Array, number, string]> = [
        ['tampered', { ...fields, 'x-amz-signature': '0'.repeat(64) }, bytes, 403, 'SignatureDoesNotMatch'],
        ['no signature', { ...fields, 'x-amz-signature': '' }, bytes, 403, 'SignatureDoesNotMatch'],
        ['another key', { ...fields, key: 'form/other.wav' }, bytes, 403, 'AccessDenied'],
        ['a bigger file', fields, randomBytes(1001), 400, 'EntityTooLarge'],
        ['a smaller file', fields, randomBytes(999), 400, 'EntityTooSmall'],
        ['an unsigned field', { ...fields, 'x-amz-meta-owner': 'me' }, bytes, 403, 'AccessDenied'],
        [
          'a wrong key id',
          { ...fields, 'x-amz-credential': fields['x-amz-credential']?.replace('S3RVER', 'OTHER') ?? '' },
          bytes,
          403,
          'InvalidAccessKeyId',
        ],
        ['no policy', { key: 'form/guarded.wav' }, bytes, 403, 'AccessDenied'],
      ];
      for (const [what, form, body, status, code] of refusals) {
        const response = await postForm(url, form, body);
        expect({ what, status: response.status, code: await errorCode(response) }).toEqual({ what, status, code });
      }
      const policy = policyOf(fields);
      const expired = resign(fields, { ...policy, expiration: new Date(Date.now() - 1000).toISOString() });
      const late = await postForm(url, expired, bytes);
      expect([late.status, await errorCode(late)]).toEqual([403, 'AccessDenied']);
      const escaping = await signedForm('form/../../escape.wav', bytes.length);
      const dotted = await postForm(escaping.url, escaping.fields, bytes);
      expect([dotted.status, await errorCode(dotted)]).toEqual([400, 'InvalidArgument']);
      expect(await exists('form/guarded.wav')).toBe(false);
      expect(await exists('form/other.wav')).toBe(false);
      // Signed but refused afterwards leaves no half-written file behind either.
      const uploads = await readdir(path.join(dataDir, BUCKET), { recursive: true });
      expect(uploads.filter((name) => name.includes('receiving-'))).toEqual([]);
    });

    it('follows starts-with and eq conditions, and refuses a form without its file', async () => {
      const bytes = randomBytes(500);
      const { url, fields } = await signedForm('form/prefixed/a.wav', bytes.length);
      const policy = policyOf(fields);
      const conditions = policy.conditions.filter((condition) => !(condition as { key?: string }).key);
      const prefixed = resign(fields, {
        ...policy,
        conditions: [...conditions, ['starts-with', '$key', 'form/prefixed/']],
      });
      expect((await postForm(url, { ...prefixed, key: 'form/prefixed/b.wav' }, bytes)).status).toBe(204);
      const outside = await postForm(url, { ...prefixed, key: 'form/elsewhere.wav' }, bytes);
      expect([outside.status, await errorCode(outside)]).toEqual([403, 'AccessDenied']);
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      const fileless = await fetch(url, { method: 'POST', body: form });
      expect([fileless.status, await errorCode(fileless)]).toEqual([400, 'InvalidArgument']);
      expect(await exists('form/prefixed/b.wav')).toBe(true);
      expect(await exists('form/elsewhere.wav')).toBe(false);
    });

    it('stores into a folder again after its last object was deleted (and the folder with it)', async () => {
      for (const name of ['a.wav', 'b.wav']) {
        const bytes = randomBytes(10);
        const { url, fields } = await signedForm(`form/vanishing/${name}`, bytes.length);
        expect((await postForm(url, fields, bytes)).status).toBe(204);
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `form/vanishing/${name}` }));
      }
      const bytes = randomBytes(10);
      const { url, fields } = await signedForm('form/vanishing/c.wav', bytes.length);
      expect((await postForm(url, fields, bytes)).status).toBe(204);
      expect(sha256(await bodyOf('form/vanishing/c.wav'))).toBe(sha256(bytes));
    });

    it('is a request browsers send without a preflight: S3 answers the form POST itself, no OPTIONS needed', async () => {
      const bytes = randomBytes(100);
      const { url, fields } = await signedForm('form/simple.wav', bytes.length);
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob([bytes]));
      const request = new Request(url, { method: 'POST', body: form });
      // CORS-safelisted: POST with a multipart/form-data body and no other header.
      expect(request.headers.get('content-type')).toMatch(/^multipart\/form-data; boundary=/);
      expect([...request.headers.keys()]).toEqual(['content-type']);
      expect((await fetch(request)).status).toBe(204);
    });
  });

  it('keeps objects, CORS and a resumable multipart upload across a restart on the same data folder', async () => {
    const key = 'restart/resumed.bin';
    const uploadId = await createUpload(key);
    const first = randomBytes(5 * MiB);
    const firstEtag = await uploadPart(key, uploadId, 1, first);
    const before = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'single/a.bin' }));

    const oldEndpoint = server.endpoint;
    await server.stop();
    expect(await isListening(oldEndpoint)).toBe(false);
    await useServer(await startLocalS3({ dataDir }));

    const after = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'single/a.bin' }));
    expect(after).toMatchObject({ ETag: before.ETag, ContentLength: before.ContentLength });
    const many = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/', StartAfter: 'many/2497.txt' }),
    );
    expect(many.Contents?.map((object) => object.Key)).toEqual(['many/2498.txt', 'many/2499.txt']);
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).CORSRules).toEqual([CORS_RULE]);

    const { Parts } = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    expect(Parts?.map((part) => [part.PartNumber, part.ETag, part.Size])).toEqual([[1, firstEtag, first.length]]);
    const last = randomBytes(MiB);
    const lastEtag = await uploadPart(key, uploadId, 2, last);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: firstEtag },
            { PartNumber: 2, ETag: lastEtag },
          ],
        },
      }),
    );
    expect(sha256(await bodyOf(key))).toBe(sha256(Buffer.concat([first, last])));
  });

  it('stop() leaves nothing listening, and a second stop() is harmless', async () => {
    const extra = await startLocalS3({ dataDir: path.join(dataDir, 'extra') });
    expect(await isListening(extra.endpoint)).toBe(true);
    await extra.stop();
    expect(await isListening(extra.endpoint)).toBe(false);
    await extra.stop();
  });

  it('the server process exits when the process that started it dies', async () => {
    const localS3 = fileURLToPath(new URL('./localS3.ts', import.meta.url));
    const script = [
      `import { startLocalS3 } from ${JSON.stringify(localS3)};`,
      `const s3 = await startLocalS3({ dataDir: ${JSON.stringify(path.join(dataDir, 'orphan'))} });`,
      'console.log(s3.endpoint);',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const endpoint = await new Promise<string>((resolve, reject) => {
      parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      parent.once('exit', () => reject(new Error('parent exited early')));
    });
    expect(await isListening(endpoint)).toBe(true);
    parent.kill('SIGKILL');
    expect(await waitUntilClosed(endpoint, 5000)).toBe(true);
  });

  it('refuses a port that is taken', async () => {
    const port = Number(new URL(server.endpoint).port);
    await expect(startLocalS3({ dataDir: path.join(dataDir, 'clash'), port })).rejects.toThrow(/EADDRINUSE/);
  });
});
