// Small DOM builders: every text goes in with textContent (never innerHTML).

/** An element with a class and, optionally, a text. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** A button calling `action` when clicked. */
export function button(
  text: string,
  title: string,
  action: () => void,
  className = 'nbflow-lab-button'
): HTMLButtonElement {
  const node = element('button', className, text);
  node.type = 'button';
  node.title = title;
  node.addEventListener('click', event => {
    event.stopPropagation();
    action();
  });
  return node;
}

/** A link opening an http(s) URL in a new tab; any other URL is shown as text. */
export function externalLink(url: string): HTMLElement {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    return element('span', 'nbflow-lab-text', url);
  }
  const link = element('a', 'nbflow-lab-link', url);
  link.href = parsed.href;
  link.target = '_blank';
  link.rel = 'noopener noreferrer';
  return link;
}

/** The time of an epoch (seconds) or ISO text, as this browser writes times. */
export function timeText(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === '') {
    return '';
  }
  const date =
    typeof value === 'number' ? new Date(value * 1000) : new Date(String(value));
  if (Number.isNaN(date.getTime())) {
    return String(value);
  }
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString() : date.toLocaleString();
}

/** Drawn states and their words (nbflow.core.progress.STATE_WORDS). */
export const STATE_WORDS: Record<string, string> = {
  DONE: 'done',
  complete: 'complete before the run',
  unversioned: 'complete, unversioned',
  RUNNING: 'running',
  BATCH_RUNNING: 'running in batches',
  PENDING: 'pending',
  stale: 'stale',
  missing: 'missing data',
  broken: 'could not be scheduled',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  DISABLED: 'disabled',
  UPSTREAM_FAILED: 'upstream failed',
  UPSTREAM_DISABLED: 'upstream disabled'
};

/** "3 done, 1 failed" in the summaries' order. */
export function countsWords(counts: Record<string, number> | null | undefined): string {
  const known = counts || {};
  const order = [
    ...Object.keys(STATE_WORDS),
    ...Object.keys(known).filter(state => !(state in STATE_WORDS))
  ];
  return order
    .filter(state => (known[state] || 0) > 0)
    .map(state => `${known[state]} ${STATE_WORDS[state] || state}`)
    .join(', ');
}
