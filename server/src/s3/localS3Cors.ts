import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPlainName, S3Error } from './localS3Http.ts';
import type { CorsRule, S3rverStore } from './localS3Store.ts';

const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

/** The bucket's PutBucketCors rules, read through s3rver's store so both follow the same stored document. */
async function rulesOf(store: S3rverStore, bucket: string): Promise<CorsRule[] | null> {
  if (!isPlainName(bucket)) return null;
  const config = await store.getSubresource(bucket, undefined, 'cors');
  return config?.rules ?? null;
}

/** S3 uses the first rule that allows the origin, the method and every requested header. */
function matchRule(rules: CorsRule[], origin: string, method: string, headers: string[]): CorsRule | undefined {
  return rules.find(
    (rule) =>
      rule.allowedOrigins.some((pattern) => pattern.test(origin)) &&
      rule.allowedMethods.includes(method.toUpperCase()) &&
      headers.every((header) => rule.allowedHeaders.some((pattern) => pattern.test(header))),
  );
}

/**
 * Answers every OPTIONS itself rather than leaving preflights to s3rver, which replies `*` and drops
 * MaxAgeSeconds (so a browser would preflight every part). Refusals follow S3's codes and messages.
 */
export async function answerPreflight(
  req: IncomingMessage,
  res: ServerResponse,
  store: S3rverStore,
  bucket: string,
): Promise<void> {
  const origin = req.headers.origin;
  const method = req.headers['access-control-request-method'];
  if (!origin) throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  if (!method) throw new S3Error('BadRequest', 'Invalid Access-Control-Request-Method: null');
  const rules = await rulesOf(store, bucket);
  if (!rules) throw new S3Error('CORSResponse', 'CORS is not enabled for this bucket.');
  const requested = (req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((header) => header.trim().toLowerCase())
    .filter(Boolean);
  const rule = matchRule(rules, origin, method, requested);
  if (!rule) {
    throw new S3Error(
      'CORSResponse',
      'This CORS request is not allowed. This is usually because the evalution of Origin, request method / ' +
        'Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted ' +
        "by the resource's CORS spec.",
    );
  }
  const headers: Record<string, string> = {
    ...allowOrigin(rule, origin),
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
    Vary: VARY,
    'Content-Length': '0',
  };
  if (requested.length) headers['Access-Control-Allow-Headers'] = requested.join(', ');
  if (rule.maxAgeSeconds != null) headers['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
  res.writeHead(200, headers);
  res.end();
}

/**
 * CORS headers on a reply the front makes itself (ListParts, Abort, Complete, its errors), so a browser at an
 * allowed origin can read it; s3rver adds the same headers to the replies it makes.
 */
export async function setCorsHeaders(
  req: IncomingMessage,
  res: ServerResponse,
  store: S3rverStore,
  bucket: string,
): Promise<void> {
  const origin = req.headers.origin;
  if (!origin) return; // not a cross-origin request: nothing to add, and no need to read the rules
  const rules = await rulesOf(store, bucket);
  const rule = rules && matchRule(rules, origin, req.method ?? 'GET', []);
  if (!rule) return;
  const headers = allowOrigin(rule, origin);
  if (rule.exposeHeaders.length) headers['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Vary', VARY);
}

function allowOrigin(rule: CorsRule, origin: string): Record<string, string> {
  return rule.hasWildcardOrigin
    ? { 'Access-Control-Allow-Origin': '*' }
    : { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' };
}
