import uPlot from 'uplot';
import { Chart } from './Chart.tsx';

export interface BarSeries {
  label: string;
  values: number[];
  color: string;
}

/**
 * Bars per category (a cycle, a file type). The first series is drawn wide and the next ones narrower on top,
 * so "arrived" shows inside "planned" and the missing part stands out.
 */
export function BarChart(props: {
  title: string;
  summary: string;
  /** What a category is, for the legend: "Cycle", "Type". */
  labelOf: string;
  labels: string[];
  series: BarSeries[];
  format: (value: number) => string;
}) {
  const options = () => ({
    legend: { show: true },
    cursor: { points: { show: false } },
    scales: {
      x: { time: false },
      y: { range: (_: uPlot, _min: number, max: number) => [0, max > 0 ? max * 1.05 : 1] as uPlot.Range.MinMax },
    },
    axes: [
      {
        splits: () => props.labels.map((_, index) => index),
        values: (_: uPlot, splits: number[]) => splits.map((index) => props.labels[index] ?? ''),
        grid: { show: false },
      },
      { values: (_: uPlot, splits: number[]) => splits.map(props.format), size: 70 },
    ],
    series: [
      {
        label: props.labelOf,
        value: (_: uPlot, index: number | null) => (index === null ? '' : (props.labels[index] ?? '')),
      },
      ...props.series.map((series, rank) => ({
        label: series.label,
        fill: series.color,
        stroke: series.color,
        width: 0,
        points: { show: false },
        paths: uPlot.paths.bars?.({ size: [0.7 - rank * 0.3, 80 - rank * 30] }),
        value: (_: uPlot, value: number | null) => (value === null ? '–' : props.format(value)),
      })),
    ],
  });
  const data = () =>
    [props.labels.map((_, index) => index), ...props.series.map((series) => series.values)] as uPlot.AlignedData;

  return (
    <Chart
      title={props.title}
      summary={props.summary}
      options={options}
      data={data()}
      xRange={[-0.5, props.labels.length - 0.5]}
    />
  );
}
