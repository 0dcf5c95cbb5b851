// A run's graph in Lab's main area: drawn with nbflow's shared renderer
// (nbflow/static/graph.js), live states while the run goes on, a task detail beside it
// and the node menu (Run this task, Run from here, Why would it run?) run in the
// kernel that owns the run.

import { JupyterFrontEnd } from '@jupyterlab/application';
import { Widget } from '@lumino/widgets';

import { createGraphView, GraphView } from '../../nbflow/static/graph.js';
import {
  Drawing,
  fetchDrawing,
  fetchRun,
  fetchServer,
  RunDocument,
  TaskDetail
} from './api';
import { countsWords, element, STATE_WORDS, timeText } from './dom';
import { say, showGroup, showTask } from './detail';
import { act, Action, connectKernel, isBusy } from './kernel';

/** The server lays out in groups above this many tasks (nbflow.core.layout). */
const SERVER_GROUP_ABOVE = 300;
const GROUP_PREFIX = 'family:';
/** A server graph is asked again while one of its nodes is in one of these states. */
const UNFINISHED = new Set(['PENDING', 'RUNNING', 'BATCH_RUNNING']);
/** Longest list of families asked for in one drawing's URL (else: groups stay). */
const MAX_EXPAND_CHARS = 6000;
/** A request the kernel has not taken after this long waits behind other work. */
const QUEUED_AFTER_MS = 500;

export interface ViewOptions {
  pollMs: () => number;
  groupThreshold: () => number;
  /** Open another run of a kernel (the one an action started). */
  openRun: (kernelId: string, number: number) => void;
}

/** Where a graph comes from: a kernel's run, or a task of the nbflow server. */
export type GraphSource =
  | { kind: 'kernel'; kernelId: string; number: number }
  | { kind: 'server'; taskId: string; label: string };

/** The graph view of one run (the content of a MainAreaWidget). */
export class RunGraph extends Widget {
  readonly source: GraphSource;
  private readonly app: JupyterFrontEnd;
  private readonly options: ViewOptions;
  private readonly header = element('div', 'nbflow-lab-graph-header');
  private readonly message = element('div', 'nbflow-lab-message');
  private readonly detail = element('div', 'nbflow-lab-detail');
  private readonly view: GraphView;
  private run: RunDocument | null = null;
  private drawing: Drawing | null = null;
  private expanded = new Set<string>();
  private selected: string | null = null;
  private timer = 0;
  private loading = false;
  /** The task a right click was on (for the node menu's commands). */
  menuTask: string | null = null;

  constructor(app: JupyterFrontEnd, source: GraphSource, options: ViewOptions) {
    super();
    this.app = app;
    this.source = source;
    this.options = options;
    this.addClass('nbflow-lab-graph');
    const body = element('div', 'nbflow-lab-graph-body');
    const canvas = element('div', 'nbflow-lab-canvas');
    body.append(canvas, this.detail);
    this.node.append(this.header, this.message, body);
    this.detail.append(element('div', 'nbflow-lab-muted', 'Click a task to see its details.'));
    this.view = createGraphView(canvas, {
      onSelect: id => this.select(id),
      onExpand: id => this.expand(id),
      words: STATE_WORDS,
      legend: {},
      maxHeight: null
    });
    canvas.addEventListener('contextmenu', event => {
      const g = (event.target as Element).closest?.('g.node') as SVGGElement | null;
      const id = g?.dataset.id ?? null;
      this.menuTask = id && !this.view.isGroup(id) ? id : null;
    });
    void this.refresh();
  }

  /** Whether this view shows the kernel run `kernelId`/`number`. */
  shows(kernelId: string, number: number): boolean {
    return (
      this.source.kind === 'kernel' &&
      this.source.kernelId === kernelId &&
      this.source.number === number
    );
  }

  get isKernelRun(): boolean {
    return this.source.kind === 'kernel';
  }

  dispose(): void {
    window.clearTimeout(this.timer);
    this.view.destroy();
    super.dispose();
  }

  protected onAfterShow(): void {
    this.schedule();
  }

  /** Fetch what changed; draw again when the tasks drawn changed. */
  async refresh(): Promise<void> {
    if (this.loading || this.isDisposed) {
      return;
    }
    this.loading = true;
    try {
      if (this.source.kind === 'kernel') {
        await this.refreshKernelRun(this.source.kernelId, this.source.number);
      } else {
        await this.refreshServerTask(this.source.taskId);
      }
      this.message.textContent = '';
    } catch (error) {
      this.message.textContent = `Could not read the run: ${(error as Error).message}`;
    } finally {
      this.loading = false;
      this.schedule();
    }
  }

  private schedule(): void {
    window.clearTimeout(this.timer);
    const live =
      this.source.kind === 'server'
        ? Object.values(this.drawing?.states || {}).some(state => UNFINISHED.has(state))
        : this.run?.state === 'running';
    if (this.isDisposed || !live || !this.isVisible) {
      return;
    }
    this.timer = window.setTimeout(() => void this.refresh(), this.options.pollMs());
  }

  private async refreshKernelRun(kernelId: string, number: number): Promise<void> {
    const run = await fetchRun(kernelId, number);
    this.run = run;
    const drawn = this.drawing?.node_of || {};
    const changed =
      !this.drawing ||
      Object.keys(run.tasks).length !== Object.keys(drawn).length ||
      Object.keys(run.tasks).some(id => !(id in drawn));
    if (changed) {
      this.drawing = await fetchDrawing(kernelId, number, this.families(run));
      this.view.draw(this.drawing.svg);
      this.view.setShares(this.drawing.shares);
    }
    this.applyStates(run);
    this.showHeader(run.command, run.state, run.counts, run.total, run.started, run.user);
    if (this.selected && !this.view.has(this.selected)) {
      this.selected = null; // an opened group is drawn no more
      delete this.detail.dataset.task;
      this.detail.replaceChildren(
        element('div', 'nbflow-lab-muted', 'Click a task to see its details.')
      );
    } else if (this.selected && !this.view.isGroup(this.selected)) {
      this.showSelected();
    }
  }

  private async refreshServerTask(taskId: string): Promise<void> {
    const expand = [...this.expanded].join(',');
    const query = expand ? `?expand=${encodeURIComponent(expand)}` : '';
    const drawing = await fetchServer<Drawing>(
      `tasks/${encodeURIComponent(taskId)}/drawing${query}`
    );
    if (!this.drawing || this.drawing.svg !== drawing.svg) {
      this.view.draw(drawing.svg);
    }
    this.drawing = drawing;
    this.view.setStates(drawing.states);
    this.view.setShares(drawing.shares);
    const counts: Record<string, number> = {};
    for (const state of Object.values(drawing.states)) {
      counts[state] = (counts[state] || 0) + 1;
    }
    const label = this.source.kind === 'server' ? this.source.label : taskId;
    this.showHeader(label, 'on the nbflow server', counts, null, null, '');
  }

  /** Families to draw task by task: those opened, or all of a run small enough. */
  private families(run: RunDocument): string[] {
    const total = Object.keys(run.tasks).length;
    if (total > SERVER_GROUP_ABOVE && total <= this.options.groupThreshold()) {
      const all = [...new Set(Object.values(run.tasks).map(task => task.family))];
      if (all.join(',').length <= MAX_EXPAND_CHARS) {
        return all;
      }
    }
    return [...this.expanded];
  }

  private applyStates(run: RunDocument): void {
    const nodeOf = this.drawing?.node_of || {};
    const states: Record<string, string> = {};
    const shares: Record<string, Record<string, number>> = {};
    for (const [id, task] of Object.entries(run.tasks)) {
      const node = nodeOf[id] ?? id;
      if (node === id) {
        states[id] = task.state;
      } else {
        const share = (shares[node] = shares[node] || {});
        share[task.state] = (share[task.state] || 0) + 1;
      }
    }
    this.view.setStates(states);
    this.view.setShares(shares);
    const legend: Record<string, string> = {};
    for (const state of Object.keys(STATE_WORDS)) {
      if (run.counts[state]) {
        legend[state] = STATE_WORDS[state];
      }
    }
    this.view.setLegend(legend);
  }

  private showHeader(
    command: string,
    state: string,
    counts: Record<string, number>,
    total: number | null,
    started: number | string | null,
    user: string
  ): void {
    const parts = [countsWords(counts)];
    if (total !== null) {
      parts.unshift(`${total} task${total === 1 ? '' : 's'}`);
    }
    if (started) {
      parts.push(`started ${timeText(started)}`);
    }
    if (user) {
      parts.push(`by ${user}`);
    }
    this.header.replaceChildren(
      element('span', 'nbflow-lab-command', command),
      element('span', `nbflow-lab-state nbflow-lab-run-${state}`, state),
      element('span', 'nbflow-lab-counts', parts.filter(Boolean).join(' · '))
    );
  }

  private select(id: string | null): void {
    this.selected = id;
    this.view.select(id);
    if (id === null) {
      return;
    }
    if (this.view.isGroup(id)) {
      const counts = this.drawing?.shares[id] || {};
      showGroup(this.detail, this.view.known(id)?.label || id, countsWords(counts));
      return;
    }
    this.showSelected();
  }

  private showSelected(): void {
    const id = this.selected;
    if (id === null) {
      return;
    }
    const keep = this.detail.querySelector('.nbflow-lab-answer')?.cloneNode(true);
    const task: TaskDetail | undefined = this.run?.tasks[id];
    if (this.source.kind === 'server') {
      const info = this.view.known(id);
      this.detail.replaceChildren(
        element('div', 'nbflow-lab-title', info?.label || id),
        element('div', '', STATE_WORDS[info?.state || ''] || info?.state || '')
      );
      return;
    }
    const shown = this.detail.dataset.task === id;
    showTask(this.detail, id, task, {
      open: path => void this.app.commands.execute('docmanager:open', { path }),
      act: (action, taskId) => void this.act(action, taskId)
    });
    this.detail.dataset.task = id;
    if (shown && keep) {
      this.detail.querySelector('.nbflow-lab-answer')?.replaceWith(keep);
    }
  }

  private expand(groupId: string): void {
    if (!groupId.startsWith(GROUP_PREFIX)) {
      return;
    }
    this.expanded.add(groupId.slice(GROUP_PREFIX.length));
    this.drawing = null;
    void this.refresh();
  }

  /** Run a node-menu action in the run's kernel; say what happened. */
  async act(action: Action, taskId: string): Promise<void> {
    if (this.source.kind !== 'kernel') {
      return;
    }
    const { kernelId, number } = this.source;
    if (this.selected !== taskId) {
      this.select(taskId);
    }
    const kernel = await connectKernel(this.app, kernelId);
    if (!kernel) {
      say(this.detail, 'The kernel of this run is not running any more.');
      return;
    }
    const queued = 'queued (the kernel is busy)…';
    say(this.detail, isBusy(kernel) ? queued : 'asking the kernel…');
    // a busy kernel does not even say it got the request: no word soon means queued
    const waiting = window.setTimeout(() => say(this.detail, queued), QUEUED_AFTER_MS);
    const answer = await act(kernel, action, number, taskId, () =>
      window.clearTimeout(waiting)
    );
    window.clearTimeout(waiting);
    if (action === 'why' && answer.ok) {
      say(this.detail, answer.why || answer.message, true);
      return;
    }
    say(this.detail, answer.message || (answer.ok ? 'started' : 'failed'));
    if (answer.ok && answer.run !== null && answer.run !== undefined) {
      this.options.openRun(kernelId, answer.run);
    }
  }
}
