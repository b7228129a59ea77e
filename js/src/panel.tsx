/** The side-panel widget: wires `JobsModel` and the notebook tracker to `JobsView`. */
import { Clipboard, ReactWidget } from '@jupyterlab/apputils';
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
    tracker.currentChanged.connect(this.update, this);
  }

  dispose(): void {
    this.model.stateChanged.disconnect(this.update, this);
    this.tracker.currentChanged.disconnect(this.update, this);
    super.dispose();
  }

  /** Keep the list current: jobs may have been created elsewhere (magic, command line). */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.model.refreshJobs();
  }

  protected render(): JSX.Element {
    const model = this.model;
    return (
      <JobsView
        state={model.state}
        notebook={this.tracker.currentWidget?.context.path ?? null}
        onCreate={() =>
          void model.createForNotebook(this.tracker.currentWidget)
        }
        onCreateFromFile={path => void model.createFromSavedFile(path)}
        onAllowSecrets={allow => model.setAllowSecrets(allow)}
        onStripOutputs={strip => model.setStripOutputs(strip)}
        onInclude={include => model.setInclude(include)}
        onExclude={exclude => model.setExclude(exclude)}
        onOpen={name => void model.openJob(name)}
        onRun={(record, overrides) => void model.runJob(record, overrides)}
        onWandb={(record, queue) => void model.toWandb(record, queue)}
        onRefresh={() => void model.refreshJobs()}
        onCopy={text => Clipboard.copyToSystem(text)}
      />
    );
  }
}
