// The task detail of a graph view: parameters, state, progress, status message,
// tracking URL, error, traceback, log, outputs and the executed notebook; the node's
// actions. Everything is text (textContent); links open in Lab or, for http(s)
// tracking URLs, in a new tab.

import { OutputFile, TaskDetail } from './api';
import { button, element, externalLink, STATE_WORDS } from './dom';

export interface DetailHandlers {
  /** Open a file of Lab's root (relative path) in Lab. */
  open(labPath: string): void;
  /** Run an action of the node menu on the task shown. */
  act(action: 'run' | 'run_from_here' | 'why', taskId: string): void;
}

function row(box: HTMLElement, name: string, value: Node | string): void {
  const line = element('div', 'nbflow-lab-row');
  line.append(element('span', 'nbflow-lab-key', name));
  const cell = element('span', 'nbflow-lab-value');
  cell.append(value);
  line.append(cell);
  box.append(line);
}

function fileLink(file: OutputFile, handlers: DetailHandlers): Node {
  if (!file.lab_path) {
    return element('span', 'nbflow-lab-text', file.path);
  }
  const labPath = file.lab_path;
  const link = button(labPath, `Open ${labPath} in JupyterLab`, () =>
    handlers.open(labPath), 'nbflow-lab-file');
  return link;
}

function block(box: HTMLElement, name: string, text: string, className = ''): void {
  box.append(element('div', 'nbflow-lab-heading', name));
  box.append(element('pre', `nbflow-lab-pre ${className}`.trim(), text));
}

/** Show one task of a run in `box` (emptied first). */
export function showTask(
  box: HTMLElement,
  taskId: string,
  task: TaskDetail | undefined,
  handlers: DetailHandlers
): void {
  box.replaceChildren();
  box.append(element('div', 'nbflow-lab-title', task?.label || taskId));
  const actions = element('div', 'nbflow-lab-actions');
  actions.append(
    button('Run this task', 'Run this task (and whatever incomplete it needs) in the background', () =>
      handlers.act('run', taskId)),
    button('Run from here', 'Run this task and everything downstream of it again (forced)', () =>
      handlers.act('run_from_here', taskId)),
    button('Why would it run?', "Ask the run's kernel why this task would (or would not) run", () =>
      handlers.act('why', taskId))
  );
  box.append(actions);
  box.append(element('div', 'nbflow-lab-answer'));
  if (!task) {
    box.append(element('div', 'nbflow-lab-muted', 'No details for this task yet.'));
    return;
  }
  const facts = element('div', 'nbflow-lab-facts');
  row(facts, 'state', STATE_WORDS[task.state] || task.state);
  if (task.detailed === false) {
    box.append(
      element(
        'div',
        'nbflow-lab-muted',
        'A big run keeps the details of its failed, running and last finished tasks only.'
      )
    );
  }
  if (task.progress !== null && task.progress !== undefined) {
    row(facts, 'progress', `${Math.round(Number(task.progress))} %`);
  }
  if (task.status_message) {
    row(facts, 'status', task.status_message);
  }
  if (task.tracking_url) {
    row(facts, 'tracking', externalLink(task.tracking_url));
  }
  for (const [name, value] of Object.entries(task.params || {})) {
    row(facts, name, String(value));
  }
  if (task.notebook) {
    row(facts, 'notebook', fileLink(task.notebook, handlers));
  }
  for (const output of task.outputs || []) {
    row(facts, 'output', fileLink(output, handlers));
  }
  row(facts, 'id', taskId);
  box.append(facts);
  if (task.error) {
    block(box, 'Error', task.error, 'nbflow-lab-error');
  }
  if (task.traceback) {
    block(box, 'Traceback', task.traceback);
  }
  const log = Array.isArray(task.log) ? task.log.join('\n') : task.log;
  if (log) {
    block(box, 'Log', log, 'nbflow-lab-log');
  }
}

/** Show a group node: its family and counts. */
export function showGroup(box: HTMLElement, label: string, counts: string): void {
  box.replaceChildren(
    element('div', 'nbflow-lab-title', label),
    element('div', '', counts),
    element('div', 'nbflow-lab-muted', 'Double-click the group to draw its tasks one by one.')
  );
}

/** Say something in the answer line of the detail (or the graph's message line). */
export function say(box: HTMLElement, text: string, pre = false): void {
  const answer = box.querySelector('.nbflow-lab-answer');
  if (!answer) {
    return;
  }
  answer.replaceChildren(element(pre ? 'pre' : 'div', pre ? 'nbflow-lab-pre' : '', text));
}
