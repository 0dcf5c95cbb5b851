// The left sidebar's nbflow panel: this Lab's kernels' runs (GET /nbflow/api/runs)
// and, when a server is configured, the nbflow server's state and graph runs. Asks
// again every poll interval while it is visible.

import { Widget } from '@lumino/widgets';

import {
  fetchRuns,
  fetchServer,
  KernelRuns,
  RunsDocument,
  RunSummary,
  SchedulerState,
  ServerGraphRun
} from './api';
import { countsWords, element, timeText } from './dom';

export interface PanelOptions {
  pollMs: () => number;
  openRun: (kernelId: string, number: number, title: string) => void;
  openServerTask: (taskId: string, label: string) => void;
}

interface ServerView {
  scheduler: SchedulerState | null;
  runs: ServerGraphRun[];
  error: string | null;
}

/** The nbflow runs panel. */
export class RunsPanel extends Widget {
  private readonly options: PanelOptions;
  private readonly list = element('div', 'nbflow-lab-runs');
  private readonly status = element('div', 'nbflow-lab-message');
  private timer = 0;
  private shown = '';
  private readonly paths = new Map<string, string>();

  constructor(options: PanelOptions) {
    super();
    this.options = options;
    this.id = 'nbflow-runs';
    this.addClass('nbflow-lab-panel');
    this.title.caption = 'nbflow runs';
    this.node.append(element('h2', 'nbflow-lab-panel-title', 'nbflow runs'), this.status, this.list);
  }

  dispose(): void {
    window.clearTimeout(this.timer);
    super.dispose();
  }

  /** The notebook of a kernel, as last listed ('' if unknown). */
  pathOf(kernelId: string): string {
    return this.paths.get(kernelId) || '';
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  protected onBeforeHide(): void {
    window.clearTimeout(this.timer);
  }

  /** Read the runs now (and again after the poll interval while visible). */
  async refresh(): Promise<void> {
    window.clearTimeout(this.timer);
    try {
      const runs = await fetchRuns();
      const server = runs.server.connected ? await this.readServer() : null;
      this.status.textContent = '';
      this.render(runs, server);
    } catch (error) {
      this.status.textContent = `Could not read the runs: ${(error as Error).message}`;
    }
    if (this.isVisible && !this.isDisposed) {
      this.timer = window.setTimeout(() => void this.refresh(), this.options.pollMs());
    }
  }

  private async readServer(): Promise<ServerView> {
    try {
      const [scheduler, history] = await Promise.all([
        fetchServer<SchedulerState>('scheduler'),
        fetchServer<{ runs: ServerGraphRun[] }>('history/graphs?limit=10')
      ]);
      return { scheduler, runs: history.runs || [], error: null };
    } catch (error) {
      return { scheduler: null, runs: [], error: (error as Error).message };
    }
  }

  private render(runs: RunsDocument, server: ServerView | null): void {
    const key = JSON.stringify([runs, server]);
    if (key === this.shown) {
      return;
    }
    this.shown = key;
    for (const kernel of runs.kernels) {
      this.paths.set(kernel.kernel_id, kernel.path || '');
    }
    const sections: HTMLElement[] = [];
    const kernels = runs.kernels.filter(kernel => kernel.runs.length > 0);
    for (const kernel of kernels) {
      sections.push(this.kernelSection(kernel));
    }
    if (kernels.length === 0) {
      sections.push(
        element(
          'div',
          'nbflow-lab-muted',
          'No runs yet. In a notebook: %load_ext nbflow, then %nbflow run YourTask.'
        )
      );
    }
    sections.push(this.serverSection(runs, server));
    this.list.replaceChildren(...sections);
  }

  private kernelSection(kernel: KernelRuns): HTMLElement {
    const section = element('section', 'nbflow-lab-kernel');
    const name = kernel.path || `kernel ${kernel.kernel_id.slice(0, 8)} (${kernel.name})`;
    const heading = element('div', 'nbflow-lab-kernel-name', name);
    heading.title = `kernel ${kernel.kernel_id}${kernel.alive ? '' : ' (not running)'}`;
    section.append(heading);
    const newest = [...kernel.runs].sort((a, b) => b.number - a.number);
    for (const run of newest) {
      section.append(this.runRow(kernel, run));
    }
    return section;
  }

  private runRow(kernel: KernelRuns, run: RunSummary): HTMLElement {
    const row = element('div', `nbflow-lab-run nbflow-lab-run-${run.state}`);
    row.tabIndex = 0;
    row.dataset.kernel = kernel.kernel_id;
    row.dataset.number = String(run.number);
    row.title = 'Open the graph of this run';
    const top = element('div', 'nbflow-lab-run-top');
    top.append(
      element('span', 'nbflow-lab-run-number', `#${run.number}`),
      element('span', 'nbflow-lab-command', run.command),
      element('span', 'nbflow-lab-state', run.state)
    );
    const bar = element('div', 'nbflow-lab-progress');
    const fill = element('div', 'nbflow-lab-progress-fill');
    fill.style.width = `${Math.max(0, Math.min(100, Number(run.percent) || 0))}%`;
    bar.append(fill);
    const facts = [`${Math.round(Number(run.percent) || 0)} % of ${run.total}`];
    if (run.started) {
      facts.push(timeText(run.started));
    }
    if (run.user) {
      facts.push(run.user);
    }
    row.append(
      top,
      bar,
      element('div', 'nbflow-lab-counts', countsWords(run.counts)),
      element('div', 'nbflow-lab-muted', facts.join(' · '))
    );
    const title = `${kernel.path || 'kernel'} #${run.number}`;
    const open = () => this.options.openRun(kernel.kernel_id, run.number, title);
    row.addEventListener('click', open);
    row.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        open();
      }
    });
    return row;
  }

  private serverSection(runs: RunsDocument, server: ServerView | null): HTMLElement {
    const section = element('section', 'nbflow-lab-server');
    if (!runs.server.url) {
      section.append(
        element('div', 'nbflow-lab-muted', 'No nbflow server configured (nbflow: Connect to server...).')
      );
      return section;
    }
    const state = runs.server.connected ? 'connected' : 'not connected';
    section.append(element('div', 'nbflow-lab-kernel-name', `Server ${runs.server.url} (${state})`));
    if (!server) {
      return section;
    }
    if (server.error || !server.scheduler) {
      section.append(element('div', 'nbflow-lab-error', server.error || 'no answer'));
      return section;
    }
    const scheduler = server.scheduler;
    const summary = `${scheduler.tasks} tasks, ${scheduler.workers} workers` +
      (scheduler.paused ? ', paused' : '');
    section.append(
      element('div', 'nbflow-lab-muted', summary),
      element('div', 'nbflow-lab-counts', countsWords(scheduler.counts))
    );
    for (const run of server.runs) {
      const root = run.roots[0];
      const row = element('div', `nbflow-lab-run nbflow-lab-run-${run.state || 'running'}`);
      row.append(
        element('div', 'nbflow-lab-command', run.roots.join(', ') || run.run_id),
        element('div', 'nbflow-lab-counts', countsWords(run.counts)),
        element('div', 'nbflow-lab-muted', `${run.total} tasks · ${timeText(run.started)}`)
      );
      if (root) {
        row.tabIndex = 0;
        row.title = "Open this run's graph";
        row.addEventListener('click', () => this.options.openServerTask(root, root));
      }
      section.append(row);
    }
    return section;
  }
}
