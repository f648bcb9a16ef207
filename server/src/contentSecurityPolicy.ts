import { isIP } from 'node:net';
import type { Config } from './config.ts';

/**
 * Where browsers send file bytes: presigned URLs point at the embedded S3 server, the public or configured
 * endpoint, an endpoint an admin gave a project, or AWS. Virtual-hosted addressing puts the bucket in front
 * of the host name, so each named host is allowed with its subdomains too.
 */
export function uploadOrigins(config: Config, embeddedEndpoint: string | undefined): string[] {
  const endpoints = [embeddedEndpoint, config.S3_PUBLIC_ENDPOINT, config.S3_ENDPOINT, ...config.S3_ALLOWED_ENDPOINTS];
  const origins = new Set<string>();
  for (const endpoint of endpoints) {
    if (!endpoint) continue;
    const url = new URL(endpoint);
    origins.add(url.origin);
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    if (!isIP(hostname) && hostname !== 'localhost') origins.add(`${url.protocol}//*.${url.host}`);
  }
  if (!embeddedEndpoint && !config.S3_ENDPOINT) origins.add('https://*.amazonaws.com');
  return [...origins];
}

/**
 * The Content-Security-Policy of every answer: the app's own scripts, styles and workers only (the hashing
 * worker compiles WebAssembly), calls to the app and the upload origins, no plugins, no framing. `styleHashes`
 * are the inline style blocks the server renders itself (the API reference page).
 */
export function contentSecurityPolicy(uploadTo: string[], styleHashes: string[]) {
  return {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'object-src': ["'none'"],
    'frame-ancestors': ["'none'"],
    'form-action': ["'self'"],
    'script-src': ["'self'", "'wasm-unsafe-eval'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'", ...styleHashes.map((hash) => `'${hash}'`)],
    // The favicon is a data: URL; Uppy previews picked images as blob: URLs.
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'", 'data:'],
    'worker-src': ["'self'", 'blob:'],
    'connect-src': ["'self'", ...uploadTo],
  };
}
