/** A bar of `done` out of `total`, readable by screen readers as a percentage with its own words. */
export function ProgressBar(props: { done: number; total: number; label: string; text: string }) {
  const percent = () => (props.total > 0 ? Math.min(100, Math.round((props.done / props.total) * 100)) : 0);
  return (
    <div class="progress-block">
      <div
        class="progress"
        role="progressbar"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent()}
        aria-valuetext={props.text}
      >
        <div style={{ width: `${percent()}%` }} />
      </div>
      <small class="hint">
        {percent()}% · {props.text}
      </small>
    </div>
  );
}
