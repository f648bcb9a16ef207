import uPlot from 'uplot';
import { Chart } from './Chart.tsx';

export interface TimeSeries {
  label: string;
  values: Array<number | null>;
  color: string;
  /** Which y axis: the left one (`y`, the default) or the right one (`y2`). */
  scale?: 'y' | 'y2';
  bars?: boolean;
  format: (value: number) => string;
}

/** Values over time (seconds since the epoch on x); up to two y scales, left and right. */
export function TimeChart(props: {
  title: string;
  summary: string;
  times: number[];
  /** Seconds between two points: 60 for minutes, 86,400 for days. */
  step: number;
  series: TimeSeries[];
  yRange?: [number, number];
  height?: number;
}) {
  const axisFor = (scale: 'y' | 'y2') => props.series.find((series) => (series.scale ?? 'y') === scale);
  const options = () => {
    const left = axisFor('y');
    const right = axisFor('y2');
    return {
      scales: {
        x: { time: true },
        y: props.yRange
          ? { range: props.yRange }
          : { range: (_: uPlot, _min: number, max: number) => [0, max || 1] as uPlot.Range.MinMax },
        y2: { range: (_: uPlot, _min: number, max: number) => [0, max || 1] as uPlot.Range.MinMax },
      },
      axes: [
        {},
        {
          scale: 'y',
          size: 70,
          values: (_: uPlot, splits: number[]) => splits.map((v) => left?.format(v) ?? String(v)),
        },
        ...(right
          ? [
              {
                scale: 'y2',
                side: 1 as const,
                size: 70,
                grid: { show: false },
                values: (_: uPlot, splits: number[]) => splits.map(right.format),
              },
            ]
          : []),
      ],
      series: [
        {},
        ...props.series.map((series) => ({
          label: series.label,
          scale: series.scale ?? 'y',
          stroke: series.color,
          fill: series.bars ? series.color : undefined,
          width: series.bars ? 0 : 2,
          paths: series.bars ? uPlot.paths.bars?.({ size: [0.8, 24] }) : undefined,
          points: { show: props.times.length < 60 },
          value: (_: uPlot, value: number | null) => (value === null ? '–' : series.format(value)),
        })),
      ],
    };
  };
  // Half a step either side, so a single day or minute is a bar in the middle rather than a lone dot.
  const xRange = (): [number, number] | undefined =>
    props.times.length
      ? [(props.times[0] as number) - props.step / 2, (props.times.at(-1) as number) + props.step / 2]
      : undefined;
  const data = () => [props.times, ...props.series.map((series) => series.values)] as uPlot.AlignedData;

  return (
    <Chart
      title={props.title}
      summary={props.summary}
      options={options}
      data={data()}
      xRange={xRange()}
      height={props.height}
    />
  );
}
