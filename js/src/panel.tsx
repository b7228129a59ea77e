/** The side-panel widget: wires `JobsModel` and the notebook tracker to `JobsView`. */
import {
  Clipboard,
  Dialog,
  ReactWidget,
  showDialog
} from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { JobsView } from './components/JobsView';
import { jobsIcon } from './icons';
import { JobsModel } from './model';
import { PANEL_ID } from './tokens';

export class JobsPanel extends ReactWidget {
  constructor(
    readonly model: JobsModel,
    private readonly tracker: INotebookTracker
  ) {
    super();
    this.id = PANEL_ID;
    this.addClass('jp-JobsPanel');
    this.title.icon = jobsIcon;
    this.title.caption = 'W&B Jobs';
    model.stateChanged.connect(this.update, this);
    tracker.currentChanged.connect(this._notebookChanged, this);
    this._notebookChanged();
  }

  dispose(): void {
    this.model.stateChanged.disconnect(this.update, this);
    this.tracker.currentChanged.disconnect(this._notebookChanged, this);
    super.dispose();
  }

  /** Another notebook is current: the model shows its state, and follows its renames. */
  private _notebookChanged(): void {
    this._watched?.pathChanged.disconnect(this._renamed, this);
    this._watched = this.tracker.currentWidget?.context ?? null;
    this._watched?.pathChanged.connect(this._renamed, this);
    this._path = this._watched?.path ?? null;
    this.model.setNotebook(this._path);
    this.update();
  }

  private _renamed(_context: DocumentRegistry.Context, path: string): void {
    if (this._path !== null) {
      this.model.notebookRenamed(this._path, path);
    }
    this._path = path;
    this.update();
  }

  private _watched: DocumentRegistry.Context | null = null;
  private _path: string | null = null;

  /** Keep the list current: jobs may have been created elsewhere (magic, command line). */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.model.refreshJobs();
  }

  /** Ask before deleting: what goes, and that it cannot be undone. */
  private async confirmDelete(name: string, ref?: string): Promise<void> {
    const what = ref
      ? `version ${ref} of ${name}`
      : `${name}, all its versions and its runs`;
    const answer = await showDialog({
      title: 'Delete from the job store?',
      body: `Delete ${what}? This cannot be undone.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (answer.button.accept) {
      await this.model.deleteJob(name, ref);
    }
  }

  protected render(): JSX.Element {
    const model = this.model;
    return (
      <JobsView
        state={model.state}
        notebook={this._path}
        onCreate={() =>
          void model.createForNotebook(this.tracker.currentWidget)
        }
        onCreateFromFile={path => void model.createFromSavedFile(path)}
        onAllowSecrets={allow => model.setAllowSecrets(allow)}
        onStripOutputs={strip => model.setStripOutputs(strip)}
        onInclude={include => model.setInclude(include)}
        onExclude={exclude => model.setExclude(exclude)}
        onOpen={(name, ref) => void model.openJob(name, ref)}
        onCancel={() => model.cancelWaiting()}
        onRun={(record, overrides) => void model.runJob(record, overrides)}
        onCancelRun={run => void model.cancelRun(run)}
        onWandb={(record, queue) => void model.toWandb(record, queue)}
        onRefresh={() => void model.refreshJobs()}
        onSearch={search => void model.setSearch(search)}
        onCompare={before => void model.compareWith(before)}
        onDelete={(name, ref) => void this.confirmDelete(name, ref)}
        onCopy={text => Clipboard.copyToSystem(text)}
        onReadFile={(record, path) =>
          model.client.readFile(record.name, path, record.version)
        }
      />
    );
  }
}
