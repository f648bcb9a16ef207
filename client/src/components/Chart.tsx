import { createEffect, onCleanup } from 'solid-js';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './Chart.css';

export const chartHeight = 220;

/**
 * One uPlot chart, drawn again when its data change and resized with its box. uPlot draws on a canvas, so
 * `summary` says in words what the chart shows, for screen readers (the figure's caption names it).
 */
export function Chart(props: {
  title: string;
  summary: string;
  options: (width: number) => Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  /** The x span; uPlot ignores a range function on x, and stretches a single time point over years. */
  xRange?: [number, number];
  height?: number;
}) {
  let box!: HTMLDivElement;
  let plot: uPlot | undefined;
  const size = () => ({ width: Math.max(box.clientWidth, 240), height: props.height ?? chartHeight });

  createEffect(() => {
    const data = props.data;
    plot?.destroy();
    plot = new uPlot({ ...props.options(size().width), ...size() }, data, box);
    const xRange = props.xRange;
    if (xRange) plot.setScale('x', { min: xRange[0], max: xRange[1] });
  });
  const observer = new ResizeObserver(() => plot?.setSize(size()));
  createEffect(() => observer.observe(box));
  onCleanup(() => {
    observer.disconnect();
    plot?.destroy();
  });

  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-canvas" role="img" aria-label={props.summary} />
    </figure>
  );
}
