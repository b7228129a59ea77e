/**
 * jupyter-jobs: a "W&B Jobs" side panel, a notebook toolbar button and a command-palette
 * command that turn the active notebook into a W&B Launch job.
 */
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import {
  INotebookModel,
  INotebookTracker,
  NotebookPanel
} from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { IDisposable } from '@lumino/disposable';

import { jobsIcon } from './icons';
import { JobsModel } from './model';
import { JobsPanel } from './panel';
import { recordRendererFactory } from './record';
import { CommandIDs } from './tokens';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-jobs:plugin',
  description: 'Turn the active notebook into a W&B Launch job.',
  autoStart: true,
  requires: [ILabShell, INotebookTracker],
  optional: [ICommandPalette, IRenderMimeRegistry],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null
  ): void => {
    // Job outputs in notebooks render from the record, with or without a kernel.
    rendermime?.addFactory(recordRendererFactory);
    const model = new JobsModel();
    const panel = new JobsPanel(model, tracker);
    shell.add(panel, 'left', { rank: 1000 });

    app.commands.addCommand(CommandIDs.create, {
      label: 'Create W&B job',
      caption: 'Save the notebook and create a W&B job from its active run',
      icon: jobsIcon,
      isEnabled: () => tracker.currentWidget !== null,
      execute: async () => {
        shell.activateById(panel.id);
        await model.createForNotebook(tracker.currentWidget);
      }
    });
    palette?.addItem({ command: CommandIDs.create, category: 'W&B Jobs' });
    app.docRegistry.addWidgetExtension('Notebook', new ToolbarExtension(app));
  }
};

/** Adds the "Create W&B job" button to every notebook's toolbar. */
class ToolbarExtension implements DocumentRegistry.IWidgetExtension<
  NotebookPanel,
  INotebookModel
> {
  constructor(private readonly app: JupyterFrontEnd) {}

  createNew(panel: NotebookPanel): IDisposable {
    const button = new ToolbarButton({
      className: 'jp-JobsPanel-toolbarButton',
      icon: jobsIcon,
      tooltip: 'Create W&B job',
      onClick: () => {
        // The button belongs to this notebook: make it the tracker's current one first.
        this.app.shell.activateById(panel.id);
        void this.app.commands.execute(CommandIDs.create);
      }
    });
    panel.toolbar.insertAfter('cellType', 'jupyterJobsCreate', button);
    return button;
  }
}

export default plugin;
