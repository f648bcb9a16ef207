import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY } from './localS3.ts';
import { S3Error, type S3Target } from './localS3Http.ts';
import { NodeSha256 } from './presigner.ts';

const MAX_EXPIRES_SECONDS = 604_800;
/** Query parameters the signer adds itself; everything else in the query was part of what was signed. */
const SIGNER_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
]);
const PAYLOAD_HASH = 'x-amz-content-sha256';

/**
 * Refuses what S3 would refuse before looking at the request. Presigned SigV4 URLs are verified in full
 * (the browser and the CLI only ever hold those); header-signed SDK calls come from our own server, so only
 * their key id is checked, as s3rver does. SigV2 and anonymous requests are refused, because s3rver would
 * let them through on the routes the front answers itself.
 */
export async function checkAuthorization(req: IncomingMessage, target: S3Target): Promise<void> {
  if (target.query.has('X-Amz-Algorithm')) return checkPresigned(req, target);
  const authorization = req.headers.authorization;
  if (authorization?.startsWith('AWS4-HMAC-SHA256 ')) {
    const accessKeyId = /Credential=([^/,\s]*)/.exec(authorization)?.[1];
    if (accessKeyId !== ACCESS_KEY_ID) throw unknownKey();
    return;
  }
  if (authorization || target.query.has('Signature')) {
    throw new S3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported.');
  }
  throw new S3Error('AccessDenied', 'Access Denied');
}

async function checkPresigned(req: IncomingMessage, target: S3Target): Promise<void> {
  const { query } = target;
  const params = ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];
  const [credential, date, expires, signedHeaders, signature] = params.map((name) => query.get(name) ?? '');
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !credential || !signedHeaders || !signature) {
    throw queryError(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, ' +
        'X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const [accessKeyId, , region, service] = credential.split('/');
  if (accessKeyId !== ACCESS_KEY_ID) throw unknownKey();
  if (region !== REGION || service !== 's3') {
    throw queryError(`Error parsing the X-Amz-Credential parameter; expecting region '${REGION}' and service 's3'.`);
  }
  const signingDate = parseAmzDate(date ?? '');
  const expiresIn = Number(expires);
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES_SECONDS) {
    throw queryError('X-Amz-Expires must be between 1 and 604800 seconds.');
  }
  if (Date.now() > signingDate.getTime() + expiresIn * 1000) {
    throw new S3Error('AccessDenied', 'Request has expired');
  }
  const expected = await presignedSignature(req, target, signingDate, expiresIn, signedHeaders.split(';'));
  if (!sameHex(expected, signature ?? '')) throw signatureMismatch();
}

/**
 * A POST Object form's signature: the HMAC of its base64 policy with the signing key of the day its
 * x-amz-credential names (the policy itself, expiry and conditions, is checked by localS3Post).
 */
export async function checkPolicySignature(policy: string, credential: string, signature: string): Promise<void> {
  const [accessKeyId, day = '', region, service, terminator] = credential.split('/');
  if (accessKeyId !== ACCESS_KEY_ID) throw unknownKey();
  if (region !== REGION || service !== 's3' || terminator !== 'aws4_request' || !/^\d{8}$/.test(day)) {
    throw new S3Error('InvalidArgument', `Error parsing the X-Amz-Credential parameter; expecting region '${REGION}'.`);
  }
  const expected = await signer.sign(policy, { signingDate: parseAmzDate(`${day}T000000Z`) });
  if (!sameHex(expected, signature)) throw signatureMismatch();
}

function signatureMismatch(): S3Error {
  return new S3Error(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. ' +
      'Check your key and signing method.',
  );
}

/** One signer for every check: it keeps the day's signing key instead of deriving it (four HMACs) per request. */
const signer = new SignatureV4({
  credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  region: REGION,
  service: 's3',
  sha256: NodeSha256,
  uriEscapePath: false, // S3 signs the path as sent, without the double encoding other services use
  applyChecksum: false,
});

/**
 * Recomputes X-Amz-Signature by presigning the request as received: same method, raw path, query minus the
 * signer's own parameters, and only the headers the URL says were signed. S3 presigned URLs sign the payload
 * as UNSIGNED-PAYLOAD unless the URL carries its own x-amz-content-sha256.
 */
async function presignedSignature(
  req: IncomingMessage,
  target: S3Target,
  signingDate: Date,
  expiresIn: number,
  signedHeaderNames: string[],
): Promise<string> {
  const query: Record<string, string> = {};
  let payloadHash = 'UNSIGNED-PAYLOAD';
  for (const [name, value] of target.query) {
    if (SIGNER_PARAMS.has(name)) continue;
    query[name] = value;
    if (name.toLowerCase() === PAYLOAD_HASH) payloadHash = value;
  }
  const headers: Record<string, string> = { [PAYLOAD_HASH]: payloadHash };
  for (const name of signedHeaderNames) {
    const value = req.headers[name];
    // A signed header the request lacks can never verify; an empty string makes the comparison fail.
    headers[name] = Array.isArray(value) ? value.join(',') : (value ?? '');
  }
  const presigned = await signer.presign(
    { method: target.method, protocol: 'http:', hostname: '127.0.0.1', path: target.rawPath, query, headers },
    {
      signingDate,
      expiresIn,
      // Keep the signed headers as headers (the client already chose what went into the query) and keep
      // the payload hash out of the signed header list unless the client signed it.
      signableHeaders: new Set(signedHeaderNames),
      unsignableHeaders: new Set([PAYLOAD_HASH]),
      unhoistableHeaders: new Set([...signedHeaderNames, PAYLOAD_HASH]),
    },
  );
  const computed = presigned.query?.['X-Amz-Signature'];
  return typeof computed === 'string' ? computed : '';
}

/** yyyyMMddTHHmmssZ, the only form SigV4 accepts. */
function parseAmzDate(text: string): Date {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) throw queryError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  return new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day, hour, minute, second));
}

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function unknownKey(): S3Error {
  return new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
}

function queryError(message: string): S3Error {
  return new S3Error('AuthorizationQueryParametersError', message);
}
