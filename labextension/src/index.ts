// nbflow in JupyterLab: the runs panel (left sidebar), graph views of runs (main area),
// the node menu run in the run's kernel, palette commands and settings.

import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  showErrorMessage,
  WidgetTracker
} from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';

import { saveServer } from './api';
import { GraphSource, RunGraph } from './graphview';
import { Action, runInBackground } from './kernel';
import { RunsPanel } from './panel';

const PLUGIN_ID = '@nbflow/labextension:plugin';

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">' +
  '<g class="jp-icon3" fill="#616161">' +
  '<circle cx="5" cy="6" r="3"/><circle cx="5" cy="18" r="3"/><circle cx="19" cy="12" r="3"/>' +
  '<path d="M7.5 7.5l9 3.5v2l-9 3.5v-2l6-2.5-6-2.5z"/></g></svg>';

export const nbflowIcon = new LabIcon({ name: 'nbflow:runs', svgstr: ICON_SVG });

export namespace CommandIDs {
  export const openRuns = 'nbflow:open-runs';
  export const runTask = 'nbflow:run-task';
  export const connect = 'nbflow:connect-server';
  export const runThis = 'nbflow:node-run';
  export const runFromHere = 'nbflow:node-run-from-here';
  export const why = 'nbflow:node-why';
}

interface Options {
  serverUrl: string;
  token: string;
  groupThreshold: number;
  pollInterval: number;
}

const current: Options = { serverUrl: '', token: '', groupThreshold: 300, pollInterval: 1 };

/** The kernel of the notebook (or console) in the main area's focus, if any. */
function currentKernel(app: JupyterFrontEnd): any {
  const widget: any = app.shell.currentWidget;
  return widget?.sessionContext?.session?.kernel ?? null;
}

function activate(
  app: JupyterFrontEnd,
  palette: ICommandPalette | null,
  settingRegistry: ISettingRegistry | null,
  restorer: ILayoutRestorer | null
): void {
  const tracker = new WidgetTracker<MainAreaWidget<RunGraph>>({ namespace: 'nbflow-graph' });
  const pollMs = () => Math.max(200, current.pollInterval * 1000);

  const openRun = (kernelId: string, number: number, title?: string) => {
    const open = tracker.find(widget => widget.content.shows(kernelId, number));
    if (open) {
      app.shell.activateById(open.id);
      return;
    }
    const source: GraphSource = { kind: 'kernel', kernelId, number };
    const path = panel.pathOf(kernelId);
    showGraph(source, title || `${path ? `${path} ` : ''}#${number}`);
  };
  const showGraph = (source: GraphSource, title: string) => {
    const content = new RunGraph(app, source, {
      pollMs,
      groupThreshold: () => current.groupThreshold,
      openRun: (kernelId, number) => openRun(kernelId, number)
    });
    const widget = new MainAreaWidget({ content });
    widget.id = `nbflow-graph-${Date.now()}`;
    widget.title.label = `nbflow ${title}`;
    widget.title.icon = nbflowIcon;
    widget.title.closable = true;
    void tracker.add(widget);
    app.shell.add(widget, 'main');
    app.shell.activateById(widget.id);
  };

  const panel = new RunsPanel({
    pollMs,
    openRun,
    openServerTask: (taskId, label) => showGraph({ kind: 'server', taskId, label }, label)
  });
  panel.title.icon = nbflowIcon;
  app.shell.add(panel, 'left', { rank: 850 });
  if (restorer) {
    restorer.add(panel, 'nbflow-runs');
  }

  addCommands(app, tracker, panel);
  if (palette) {
    for (const command of [CommandIDs.openRuns, CommandIDs.runTask, CommandIDs.connect]) {
      palette.addItem({ command, category: 'nbflow' });
    }
  }
  for (const [command, rank] of [
    [CommandIDs.runThis, 1],
    [CommandIDs.runFromHere, 2],
    [CommandIDs.why, 3]
  ] as const) {
    app.contextMenu.addItem({ command, selector: '.nbflow-lab-graph g.node', rank });
  }

  if (settingRegistry) {
    void settingRegistry.load(PLUGIN_ID).then(settings => {
      const read = (first: boolean) => {
        const before = `${current.serverUrl}\n${current.token}`;
        current.serverUrl = String(settings.get('serverUrl').composite || '');
        current.token = String(settings.get('token').composite || '');
        current.groupThreshold = Number(settings.get('groupThreshold').composite) || 300;
        current.pollInterval = Number(settings.get('pollInterval').composite) || 1;
        const changed = `${current.serverUrl}\n${current.token}` !== before;
        // at start only a configured server; later any change (empty: disconnect)
        if (first ? Boolean(current.serverUrl) : changed) {
          void saveServer(current.serverUrl, current.token || null).catch(error =>
            void showErrorMessage('nbflow: the server settings were not saved', error));
        }
      };
      read(true);
      settings.changed.connect(() => read(false));
    });
  }
}

function addCommands(
  app: JupyterFrontEnd,
  tracker: WidgetTracker<MainAreaWidget<RunGraph>>,
  panel: RunsPanel
): void {
  app.commands.addCommand(CommandIDs.openRuns, {
    label: 'nbflow: Open runs',
    caption: "Show the runs of this Lab's kernels (and of the nbflow server)",
    execute: () => {
      app.shell.activateById(panel.id);
      void panel.refresh();
    }
  });
  app.commands.addCommand(CommandIDs.runTask, {
    label: 'nbflow: Run task...',
    caption: "Run a task in the background in the current notebook's kernel",
    execute: async () => {
      const kernel = currentKernel(app);
      if (!kernel) {
        await showErrorMessage(
          'nbflow: no kernel',
          'Run task... runs in the current notebook\'s kernel. Fix: open a notebook (with a kernel) and try again.'
        );
        return;
      }
      const asked = await InputDialog.getText({
        title: 'nbflow: Run task',
        label: 'A task, as %nbflow run takes it (e.g. Report --day 2024-01-31)',
        placeholder: 'TaskName --param value'
      });
      const expression = (asked.value || '').trim();
      if (!asked.button.accept || !expression) {
        return;
      }
      const executed = await runInBackground(kernel, expression);
      if (executed.error) {
        await showErrorMessage('nbflow: the run did not start', executed.error);
        return;
      }
      app.shell.activateById(panel.id);
      void panel.refresh();
    }
  });
  app.commands.addCommand(CommandIDs.connect, {
    label: 'nbflow: Connect to server...',
    caption: 'Show the runs of an nbflow server in the panel',
    execute: async () => {
      const url = await InputDialog.getText({
        title: 'nbflow: Connect to server',
        label: 'The nbflow server URL',
        placeholder: 'http://localhost:8082',
        text: current.serverUrl
      });
      if (!url.button.accept) {
        return;
      }
      const token = await InputDialog.getPassword({
        title: 'nbflow: Connect to server',
        label: 'Its token (leave empty to keep the one set)'
      });
      if (!token.button.accept) {
        return;
      }
      try {
        await saveServer((url.value || '').trim(), token.value ? token.value : null);
      } catch (error) {
        await showErrorMessage('nbflow: not connected', (error as Error).message, [
          Dialog.okButton()
        ]);
        return;
      }
      app.shell.activateById(panel.id);
      void panel.refresh();
    }
  });
  /** The graph view the context menu was opened on. */
  const graphUnderMenu = (): RunGraph | null => {
    const node = app.contextMenuHitTest(n => n.classList.contains('nbflow-lab-graph'));
    const found = node ? tracker.find(widget => widget.content.node === node) : undefined;
    return found?.content ?? null;
  };
  const nodeCommand = (id: string, label: string, action: Action) =>
    app.commands.addCommand(id, {
      label,
      isVisible: () => Boolean(graphUnderMenu()?.isKernelRun),
      execute: () => {
        const graph = graphUnderMenu();
        const task = graph?.menuTask;
        if (graph && task) {
          void graph.act(action, task);
        }
      }
    });
  nodeCommand(CommandIDs.runThis, 'Run this task', 'run');
  nodeCommand(CommandIDs.runFromHere, 'Run from here', 'run_from_here');
  nodeCommand(CommandIDs.why, 'Why would it run?', 'why');
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'nbflow in JupyterLab: runs panel, live graph views, task actions.',
  autoStart: true,
  optional: [ICommandPalette, ISettingRegistry, ILayoutRestorer],
  activate
};

export default plugin;
