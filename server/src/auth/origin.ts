/**
 * CSRF defence as Lucia's guide recommends: a browser always sends `Origin` on a POST, so a mutation whose
 * Origin is neither the host it was sent to nor a configured app origin comes from another site.
 * Requests without Origin (curl, the CLI) carry no ambient browser credentials worth forging.
 */
export function isForeignOrigin(origin: string | undefined, host: string | undefined, allowed: readonly string[]) {
  if (origin === undefined) return false;
  if (allowed.includes(origin)) return false;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}
