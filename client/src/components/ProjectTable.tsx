import { A } from '@solidjs/router';
import { For, Show } from 'solid-js';
import { formatCount } from '../format.ts';
import type { trpc } from '../trpc.ts';
import { StatusBadge } from './StatusBadge.tsx';

export type ProjectListing = Awaited<ReturnType<typeof trpc.projects.list.query>>[number];

/** The company's projects: where each one's files go in S3 and how many cycles it has. */
export function ProjectTable(props: { projects: ProjectListing[] }) {
  return (
    <div class="table-scroll">
      <table class="data-table">
        <thead>
          <tr>
            <th scope="col">Project</th>
            <th scope="col">Bucket</th>
            <th scope="col">Key prefix</th>
            <th scope="col">Region</th>
            <th scope="col" class="number">
              Cycles
            </th>
          </tr>
        </thead>
        <tbody>
          <For each={props.projects}>
            {(project) => (
              <tr>
                <td>
                  <A href={`/projects/${project.id}`}>{project.name}</A>
                  <Show when={project.archivedAt}>
                    {' '}
                    <StatusBadge status="archived" />
                  </Show>
                </td>
                <td class="code">{project.bucket}</td>
                <td class="code">{project.keyPrefix ?? <span class="muted">–</span>}</td>
                <td>{project.region}</td>
                <td class="number">{formatCount(project.cycles)}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}
