import { maxVerifyDifferences } from '@data-uploader/shared';
import { connect, type GlobalFlags } from '../client.ts';
import { exitCodes, explain } from '../errors.ts';
import { formatBytes, table } from '../format.ts';
import { printJson } from '../progress.ts';
import { resolveCycle, resolveProject } from '../resolve.ts';

type Flags = GlobalFlags & { project: string; cycle: string; json?: boolean };

const kindNames = {
  missing: 'missing from the bucket',
  sizeDiffers: 'size differs',
  etagDiffers: 'ETag differs',
  extra: 'not in the ledger',
} as const;

const sizeOf = (side: { size: number } | null) => (side ? formatBytes(side.size) : '-');
const etagOf = (side: { etag: string | null } | null) => side?.etag?.replaceAll('"', '') || '-';

/**
 * Compares a cycle's ledger with its bucket (the server lists the bucket; the CLI holds no S3 credentials)
 * and prints every difference. Exit 0 when they agree, 1 when they differ.
 */
export async function verify(flags: Flags) {
  const { api, server } = await connect(flags);
  try {
    const project = await resolveProject(api, flags.project);
    const cycle = await resolveCycle(api, project, flags.cycle);
    const result = await api.cycles.verify.query({ id: cycle.id, limit: maxVerifyDifferences });
    const code = result.total === 0 ? exitCodes.ok : exitCodes.filesFailed;
    if (flags.json) {
      printJson({ type: 'verify', project: project.name, cycle: cycle.name, ...result });
      return code;
    }
    const where = `${project.name} / ${cycle.name} (${result.prefix})`;
    if (result.total === 0) {
      process.stdout.write(`Ledger and bucket agree for ${where}: ${result.ledgerFiles} files.\n`);
      return code;
    }
    process.stdout.write(
      `${table(
        ['DIFFERENCE', 'KEY', 'LEDGER SIZE', 'BUCKET SIZE', 'LEDGER ETAG', 'BUCKET ETAG'],
        result.differences.map((d) => [
          kindNames[d.kind],
          d.key,
          sizeOf(d.ledger),
          sizeOf(d.bucket),
          etagOf(d.ledger),
          etagOf(d.bucket),
        ]),
      )}\n`,
    );
    const counts = Object.entries(result.counts)
      .filter(([, count]) => count > 0)
      .map(([kind, count]) => `${count} ${kindNames[kind as keyof typeof kindNames]}`)
      .join(', ');
    const unlisted = result.total - result.differences.length;
    process.stdout.write(
      `${result.total} differences for ${where}: ${counts}` +
        ` (ledger: ${result.ledgerFiles} files, bucket: ${result.bucketObjects} objects)` +
        `${unlisted > 0 ? `; ${unlisted} not listed above` : ''}.\n`,
    );
    return code;
  } catch (error) {
    throw explain(error, server);
  }
}
