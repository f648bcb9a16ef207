import { createResource, Show } from 'solid-js';
import { formatBytes, formatCount } from '../format.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { TimeChart } from './TimeChart.tsx';

/** A session's files and bytes completed per minute; read again whenever its done-counter moves. */
export function ThroughputChart(props: { sessionId: string; filesDone: number }) {
  const [minutes] = createResource(
    () => ({ sessionId: props.sessionId, filesDone: props.filesDone }),
    ({ sessionId }) => trpc.stats.sessionThroughput.query({ sessionId }),
  );
  return (
    <>
      <ErrorMessage error={minutes.error} />
      <Show when={(minutes.latest?.length ?? 0) > 0}>
        <TimeChart
          title="Throughput per minute"
          summary={`Files and bytes completed per minute over ${minutes.latest?.length} minutes`}
          height={160}
          step={60}
          times={(minutes.latest ?? []).map((minute) => Date.parse(minute.minute) / 1000)}
          series={[
            {
              label: 'Files',
              values: (minutes.latest ?? []).map((minute) => minute.files),
              color: '#1f6f5c',
              bars: true,
              format: formatCount,
            },
            {
              label: 'Bytes',
              values: (minutes.latest ?? []).map((minute) => minute.bytes),
              color: '#8a5a00',
              scale: 'y2',
              format: formatBytes,
            },
          ]}
        />
      </Show>
    </>
  );
}
