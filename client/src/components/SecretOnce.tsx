import { createSignal, type JSX, onMount } from 'solid-js';

/**
 * A value the server shows only in this one answer (a temporary password, an API token): a copy button, what to
 * do with it, and a button to put it away. Focus moves to the copy button so a keyboard user lands on it.
 */
export function SecretOnce(props: { title: string; value: string; children?: JSX.Element; onDone: () => void }) {
  const [copied, setCopied] = createSignal<'copied' | 'selected'>();
  let box: HTMLElement | undefined;
  let copyButton: HTMLButtonElement | undefined;
  onMount(() => copyButton?.focus());

  const selectValue = () => {
    if (!box) return;
    const range = document.createRange();
    range.selectNodeContents(box);
    window.getSelection()?.removeAllRanges();
    window.getSelection()?.addRange(range);
  };

  const copy = async () => {
    try {
      // Absent outside a secure context (plain http to another host): the value is selected instead.
      await navigator.clipboard.writeText(props.value);
      setCopied('copied');
    } catch {
      selectValue();
      setCopied('selected');
    }
  };

  return (
    <section class="success secret-once" aria-label={props.title}>
      <strong>{props.title}</strong>
      <p class="muted">Shown only this once: copy it now, it cannot be shown again.</p>
      <div class="secret-line">
        <code class="secret" ref={box}>
          {props.value}
        </code>
        <button type="button" ref={copyButton} onClick={copy}>
          Copy
        </button>
      </div>
      <p class="hint" aria-live="polite">
        {copied() === 'copied' ? 'Copied to the clipboard.' : ''}
        {copied() === 'selected' ? 'The browser refused the clipboard; the text is selected, press Ctrl+C.' : ''}
      </p>
      {props.children}
      <button type="button" onClick={() => props.onDone()}>
        Done, hide it
      </button>
    </section>
  );
}
