import { createMemo, For, Show } from 'solid-js';
import { formatBytes, formatCount } from '../format.ts';
import './Chart.css';

export interface CoverageCell {
  sensor: string;
  day: string;
  files: number;
  bytes: number;
}

const dayMs = 86_400_000;

/** Every UTC day from the first to the last, so a day on which nothing arrived still gets its column. */
export function daysBetween(first: string, last: string): string[] {
  const days: string[] = [];
  for (let ms = Date.parse(`${first}T00:00:00Z`); ms <= Date.parse(`${last}T00:00:00Z`); ms += dayMs) {
    days.push(new Date(ms).toISOString().slice(0, 10));
  }
  return days;
}

/** Light to dark green by the share of the busiest cell; the square root keeps small counts visible. */
function colourOf(files: number, max: number): string {
  const share = Math.sqrt(files / max);
  const mix = (from: number, to: number) => Math.round(from + (to - from) * share);
  return `rgb(${mix(214, 11)}, ${mix(236, 61)}, ${mix(228, 49)})`;
}

/**
 * Sensor × day: a table whose cells are coloured by the files that arrived, hatched where none did. Being a
 * table, screen readers announce each count with its sensor and day; the box scrolls with the keyboard.
 */
export function CoverageHeatmap(props: { cells: CoverageCell[] }) {
  const grid = createMemo(() => {
    const byKey = new Map(props.cells.map((cell) => [`${cell.sensor}\n${cell.day}`, cell]));
    const sensors = [...new Set(props.cells.map((cell) => cell.sensor))].sort();
    const sortedDays = props.cells.map((cell) => cell.day).sort();
    const days = sortedDays.length ? daysBetween(sortedDays[0] as string, sortedDays.at(-1) as string) : [];
    const max = Math.max(1, ...props.cells.map((cell) => cell.files));
    return { sensors, days, max, at: (sensor: string, day: string) => byKey.get(`${sensor}\n${day}`) };
  });

  return (
    <Show when={props.cells.length > 0} fallback={<p class="notice">No files have arrived yet.</p>}>
      <section class="heatmap-scroll" tabindex="0" aria-label="Coverage by sensor and day">
        <table class="heatmap">
          <caption class="visually-hidden">Files that arrived per sensor (rows) and recording day (columns)</caption>
          <thead>
            <tr>
              <th scope="col">Sensor</th>
              <For each={grid().days}>{(day) => <th scope="col">{day.slice(5)}</th>}</For>
            </tr>
          </thead>
          <tbody>
            <For each={grid().sensors}>
              {(sensor) => (
                <tr>
                  <th scope="row">{sensor}</th>
                  <For each={grid().days}>
                    {(day) => {
                      const cell = grid().at(sensor, day);
                      const files = cell?.files ?? 0;
                      const label = `${sensor}, ${day}: ${formatCount(files)} ${files === 1 ? 'file' : 'files'}${cell ? ` (${formatBytes(cell.bytes)})` : ''}`;
                      return (
                        <td
                          class={files ? 'filled' : 'empty'}
                          style={files ? { background: colourOf(files, grid().max) } : undefined}
                          title={label}
                          data-sensor={sensor}
                          data-day={day}
                          data-files={files}
                        >
                          <span class="visually-hidden">{label}</span>
                        </td>
                      );
                    }}
                  </For>
                </tr>
              )}
            </For>
          </tbody>
        </table>
        <div class="heatmap-legend" aria-hidden="true">
          <span>1</span>
          <span class="ramp" />
          <span>{formatCount(grid().max)} files</span>
          <span class="ramp-none">hatched: none arrived</span>
        </div>
      </section>
    </Show>
  );
}
