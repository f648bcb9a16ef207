import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type BucketTarget, encodeKey, objectUrl, Presigner, type PresignRequest } from './presigner.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const signingDate = new Date('2025-09-09T09:20:00Z');

beforeEach(() => {
  // The presigner signs "now"; the SDK is given the same instant explicitly.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(signingDate);
});
afterEach(() => {
  vi.useRealTimers();
});

const targets = {
  embedded: { bucket: 'field-data', region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
  minioPath: {
    bucket: 'field-data',
    region: 'us-east-1',
    endpoint: 'https://storage.example.com/s3',
    forcePathStyle: true,
  },
  minioHost: {
    bucket: 'field-data',
    region: 'us-east-1',
    endpoint: 'https://minio.example.com',
    forcePathStyle: false,
  },
  aws: { bucket: 'field-data', region: 'eu-west-1', forcePathStyle: false },
  awsUsEast: { bucket: 'field-data', region: 'us-east-1', forcePathStyle: false },
  awsDotted: { bucket: 'field.data.2025', region: 'eu-west-1', forcePathStyle: false },
} satisfies Record<string, BucketTarget>;

const keys = [
  'C1/950349/20250909_092000.WAV',
  'C1/with space/two  spaces.wav',
  'C1/ünïcödé/日本語の録音.wav',
  'C1/NFD/cafe\u0301.wav',
  'C1/😀/emoji.wav',
  'C1/reserved/+&=%#?.wav',
  "C1/sub-delims/!'()*~.wav",
  'C1/more/a;b,c:d@e$f[g]{h}^i`j|k.wav',
  'C1/plus+sign/1+1=2.wav',
];

function sdkClient(target: BucketTarget, identity: typeof credentials & { sessionToken?: string } = credentials) {
  return new S3Client({
    region: target.region,
    endpoint: target.endpoint,
    forcePathStyle: target.forcePathStyle,
    credentials: identity,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

/** The part of a URL before its query, exactly as written (no re-encoding). */
const withoutQuery = (url: string) => url.split('?')[0];

/** A URL's query as S3 reads it: each name and value percent-decoded, a `+` staying a plus. */
function queryOf(url: string): Record<string, string> {
  const raw = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  return Object.fromEntries(
    raw
      .split('&')
      .filter(Boolean)
      .map((pair) => {
        const [name = '', value = ''] = pair.split('=');
        return [decodeURIComponent(name), decodeURIComponent(value)];
      }),
  );
}

async function ours(
  target: BucketTarget,
  request: Omit<PresignRequest, 'expiresIn'>,
  presigner = new Presigner(credentials),
) {
  return (await presigner.presign(target, { ...request, expiresIn: 3600 })).url;
}

/**
 * Presigns the same request with the SDK and with our presigner and answers both URLs. The SDK adds and signs
 * `x-id=<Operation>` for most operations; our presigner is handed the same parameter, so that equal signatures
 * prove the two canonical requests identical.
 */
async function bothWays(
  target: BucketTarget,
  command: Parameters<typeof getSignedUrl>[1],
  request: Omit<PresignRequest, 'expiresIn'>,
  options: { identity?: typeof credentials & { sessionToken?: string }; signableHeaders?: Set<string> } = {},
) {
  const expected = await getSignedUrl(sdkClient(target, options.identity), command, {
    expiresIn: 3600,
    signingDate,
    signableHeaders: options.signableHeaders,
  });
  const operation = queryOf(expected)['x-id'];
  const query = operation ? { ...request.query, 'x-id': operation } : request.query;
  const actual = await ours(target, { ...request, query }, new Presigner(options.identity ?? credentials));
  return { expected, actual };
}

/**
 * The presigner package and the client package are a few SDK releases apart, so their command types differ
 * slightly though they work together.
 */
type SdkCommand = Parameters<typeof getSignedUrl>[1];
const sdkCommand = (command: object) => command as SdkCommand;

/** Every request the app presigns, as an SDK command and as our presigner's request, for one key and target. */
function requestPairs(
  target: BucketTarget,
  key: string,
): Array<[string, Parameters<typeof getSignedUrl>[1], Omit<PresignRequest, 'expiresIn'>]> {
  const Bucket = target.bucket;
  const UploadId = 'VXBsb2FkIElE+/of=some~upload.id_-';
  return [
    ['PutObject', sdkCommand(new PutObjectCommand({ Bucket, Key: key })), { method: 'PUT', key }],
    [
      'CreateMultipartUpload',
      sdkCommand(new CreateMultipartUploadCommand({ Bucket, Key: key })),
      { method: 'POST', key, query: { uploads: '' } },
    ],
    [
      'UploadPart',
      sdkCommand(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: 7 })),
      { method: 'PUT', key, query: { partNumber: '7', uploadId: UploadId } },
    ],
    [
      'ListParts',
      sdkCommand(new ListPartsCommand({ Bucket, Key: key, UploadId })),
      { method: 'GET', key, query: { uploadId: UploadId } },
    ],
    [
      'CompleteMultipartUpload',
      sdkCommand(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId })),
      { method: 'POST', key, query: { uploadId: UploadId } },
    ],
    [
      'AbortMultipartUpload',
      sdkCommand(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId })),
      { method: 'DELETE', key, query: { uploadId: UploadId } },
    ],
  ];
}

describe('compared with the AWS SDK’s getSignedUrl for the same request and signing date, presigned URLs', () => {
  it('address the same host and path, keys with spaces, Unicode and reserved characters encoded alike, on every kind of endpoint', async () => {
    for (const [name, target] of Object.entries(targets)) {
      for (const key of keys) {
        for (const [operation, command, request] of requestPairs(target, key)) {
          const { expected, actual } = await bothWays(target, command, request);
          expect(withoutQuery(actual), `${operation} ${key} on ${name}`).toBe(withoutQuery(expected));
        }
      }
    }
  });

  it('carry the same query and signature, for every request, endpoint, signed content type and temporary credentials', async () => {
    for (const [name, target] of Object.entries(targets)) {
      for (const key of [keys[0] as string, keys[5] as string]) {
        for (const [operation, command, request] of requestPairs(target, key)) {
          const { expected, actual } = await bothWays(target, command, request);
          expect(queryOf(actual), `${operation} ${key} on ${name}`).toEqual(queryOf(expected));
        }
      }
    }
    const target = targets.aws;
    const key = keys[1] as string;
    // The SDK leaves content-type unsigned unless asked; our URLs pin it, so the browser must send that type.
    const typed = await bothWays(
      target,
      sdkCommand(new PutObjectCommand({ Bucket: target.bucket, Key: key, ContentType: 'audio/wav' })),
      { method: 'PUT', key, headers: { 'content-type': 'audio/wav' } },
      { signableHeaders: new Set(['content-type']) },
    );
    expect(queryOf(typed.actual)['X-Amz-SignedHeaders']).toBe('content-type;host');
    expect(queryOf(typed.actual), 'a signed content type').toEqual(queryOf(typed.expected));
    // The CLI signs each body's MD5 in, for an object and for a part, so S3 refuses another body.
    const ContentMD5 = 'rL0Y20zC+Fzt72VPzMSk2A==';
    const UploadId = 'upload-1';
    const digests: Array<[string, SdkCommand, Omit<PresignRequest, 'expiresIn'>]> = [
      [
        'PutObject',
        sdkCommand(new PutObjectCommand({ Bucket: target.bucket, Key: key, ContentMD5 })),
        { method: 'PUT', key, headers: { 'content-md5': ContentMD5 } },
      ],
      [
        'UploadPart',
        sdkCommand(new UploadPartCommand({ Bucket: target.bucket, Key: key, UploadId, PartNumber: 2, ContentMD5 })),
        { method: 'PUT', key, query: { partNumber: '2', uploadId: UploadId }, headers: { 'content-md5': ContentMD5 } },
      ],
    ];
    for (const [operation, command, request] of digests) {
      const signed = await bothWays(target, command, request, { signableHeaders: new Set(['content-md5']) });
      expect(queryOf(signed.actual)['X-Amz-SignedHeaders'], operation).toBe('content-md5;host');
      expect(queryOf(signed.actual), `${operation} with a signed Content-MD5`).toEqual(queryOf(signed.expected));
      const { headers } = await new Presigner(credentials).presign(target, { ...request, expiresIn: 3600 });
      expect(headers, 'the header the client must send').toEqual({ 'content-md5': ContentMD5 });
    }
    const identity = { ...credentials, sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDO+token=' };
    const temporary = await bothWays(
      target,
      sdkCommand(new PutObjectCommand({ Bucket: target.bucket, Key: key })),
      { method: 'PUT', key },
      { identity },
    );
    expect(queryOf(temporary.actual)['X-Amz-Security-Token']).toBe(identity.sessionToken);
    expect(queryOf(temporary.actual), 'temporary credentials').toEqual(queryOf(temporary.expected));
  });
});

describe('presigned URLs', () => {
  const requests: Array<Omit<PresignRequest, 'expiresIn'>> = [
    { method: 'PUT', key: 'C1/a.wav' },
    { method: 'PUT', key: 'C1/a.wav', headers: { 'content-type': 'audio/wav' } },
    { method: 'POST', key: 'C1/a.wav', query: { uploads: '' } },
    { method: 'PUT', key: 'C1/a.wav', query: { partNumber: '1', uploadId: 'abc' } },
    { method: 'GET', key: 'C1/a.wav', query: { uploadId: 'abc' } },
    { method: 'POST', key: 'C1/a.wav', query: { uploadId: 'abc' } },
    { method: 'DELETE', key: 'C1/a.wav', query: { uploadId: 'abc' } },
  ];

  it('carry no x-amz-checksum-* or x-amz-sdk-checksum-algorithm parameters, whatever the request', async () => {
    for (const target of Object.values(targets)) {
      for (const request of requests) {
        const query = queryOf(await ours(target, request));
        const context = `${request.method} ${JSON.stringify(request.query ?? {})} on ${(target as BucketTarget).endpoint ?? 'AWS'}`;
        expect(
          Object.keys(query).filter((name) => /^x-amz-(checksum-|sdk-checksum-algorithm$)/i.test(name)),
          context,
        ).toEqual([]);
        expect(query['X-Amz-Expires'], context).toBe('3600');
        expect(query['X-Amz-Date'], context).toBe('20250909T092000Z');
      }
    }
  });

  it('carry X-Amz-Content-Sha256=UNSIGNED-PAYLOAD, named as the SDK and the S3 documentation name it', async () => {
    for (const request of requests) {
      const query = queryOf(await ours(targets.aws, request));
      expect(query['X-Amz-Content-Sha256'], `${request.method} ${JSON.stringify(request.query ?? {})}`).toBe(
        'UNSIGNED-PAYLOAD',
      );
      expect(Object.keys(query).filter((name) => /^x-amz-content-sha256$/i.test(name))).toEqual([
        'X-Amz-Content-Sha256',
      ]);
    }
  });

  it('write spaces as %20, never as +, so S3 does not read them as plus signs', async () => {
    const url = await ours(targets.embedded, { method: 'PUT', key: 'C1/a b/1+1.wav', query: { uploadId: 'x y+z' } });
    expect(withoutQuery(url)).toBe('http://127.0.0.1:9000/field-data/C1/a%20b/1%2B1.wav');
    expect(url).toContain('uploadId=x%20y%2Bz');
  });

  it('use path style for a custom endpoint, keeping its port and path', async () => {
    expect(withoutQuery(await ours(targets.embedded, { method: 'PUT', key: 'C1/a.wav' }))).toBe(
      'http://127.0.0.1:9000/field-data/C1/a.wav',
    );
    expect(withoutQuery(await ours(targets.minioPath, { method: 'PUT', key: 'C1/a.wav' }))).toBe(
      'https://storage.example.com/s3/field-data/C1/a.wav',
    );
  });

  it('use virtual-hosted style on AWS, and path style for a bucket name with dots', async () => {
    expect(withoutQuery(await ours(targets.aws, { method: 'PUT', key: 'C1/a.wav' }))).toBe(
      'https://field-data.s3.eu-west-1.amazonaws.com/C1/a.wav',
    );
    expect(withoutQuery(await ours(targets.awsDotted, { method: 'PUT', key: 'C1/a.wav' }))).toBe(
      'https://s3.eu-west-1.amazonaws.com/field.data.2025/C1/a.wav',
    );
  });

  it('encode every key segment as S3 canonicalises it, keeping only unreserved characters and slashes', () => {
    expect(encodeKey("C1/a b/+&=%#?!'()*~é.wav")).toBe('C1/a%20b/%2B%26%3D%25%23%3F%21%27%28%29%2A~%C3%A9.wav');
    expect(objectUrl(targets.aws, '').toString()).toBe('https://field-data.s3.eu-west-1.amazonaws.com/');
  });
});
