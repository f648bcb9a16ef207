/**
 * What the server's log must never hold, however a value got into a line (an error's message, a URL, a header
 * logged at debug level): secrets are cut out of every serialized line before it is written.
 */
const secretPatterns: Array<[RegExp, string]> = [
  // Presigned URLs: the signature, and the credential and session token that came with it.
  [/(X-Amz-(?:Signature|Credential|Security-Token)(?:=|%3D|"\s*:\s*"))[^&\s"\\]+/gi, '$1[redacted]'],
  // Session cookies and API tokens (`du_…`): `<24-char id>.<24-char secret>`; the id stays, for support.
  [/(?<![a-z2-7])([a-z2-7]{24})\.[a-z2-7]{24}(?![a-z2-7])/g, '$1.[redacted]'],
  [/(\bBearer\s+)[^\s"\\]+/gi, '$1[redacted]'],
  [/(\bdu_session=)[^;\s"\\]+/g, '$1[redacted]'],
];

export function scrubSecrets(line: string): string {
  let scrubbed = line;
  for (const [pattern, replacement] of secretPatterns) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

/** Pino options of the app's logger: known secret fields censored by name, and every line scrubbed. */
export const logRedaction = {
  redact: {
    paths: [
      'req.headers.authorization',
      'req.headers.cookie',
      'res.headers["set-cookie"]',
      '*.password',
      '*.currentPassword',
      '*.newPassword',
      '*.secretAccessKey',
      '*.sessionToken',
      '*.AWS_SECRET_ACCESS_KEY',
      '*.AWS_SESSION_TOKEN',
      // A failed query's parameters can be a secret's hash or a webhook's signing secret.
      'err.params',
      'err.cause.params',
    ],
    censor: '[redacted]',
  },
  hooks: { streamWrite: scrubSecrets },
};
