/**
 * The job record as a notebook output: `%wandb_job` displays the record under `RESULT_MIME`
 * beside its widget, and this renderer shows it with the panel's own `JobDetails`. It needs
 * no kernel and no widget model, so a saved notebook reopened later still shows the job.
 */
import { Clipboard, ReactWidget } from '@jupyterlab/apputils';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { JobsClient, parseMime } from './client';
import { JobDetails } from './components/JobDetails';
import { IJobRecord, IJobRun, IStoredFile, RESULT_MIME } from './tokens';

/**
 * Below the ipywidgets view's rank (-10): JupyterLab picks the lowest rank, so the record
 * wins over a widget view whose model is gone after a reopen. The renderer is safe (React
 * text only), so untrusted notebooks show it too.
 */
const RECORD_RANK = -20;

export const recordRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [RESULT_MIME],
  defaultRank: RECORD_RANK,
  createRenderer: options => new RecordRenderer(options.mimeType)
};

class RecordRenderer extends ReactWidget implements IRenderMime.IRenderer {
  private record: IJobRecord | null = null;

  constructor(private readonly mimeType: string) {
    super();
    this.addClass('jp-JobsPanel-record');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.record = parseMime<IJobRecord>(model.data[this.mimeType]);
    this.runs = null;
    MessageLoop.sendMessage(this, Widget.Msg.UpdateRequest);
    await this.renderPromise;
    if (!this.record.dry_run) {
      void this.loadRuns(this.record);
    }
  }

  /** The Runs tab lists the job's runs as the server's store has them now; none when the
   * server cannot say (the job was made elsewhere or deleted since). */
  private async loadRuns(record: IJobRecord): Promise<void> {
    let runs: IJobRun[] = [];
    try {
      runs = (await this.client.getRuns(record.name)).runs;
    } catch {
      // Shown as "None yet": this server has no runs of it.
    }
    if (this.record === record) {
      this.runs = runs;
      this.update();
    }
  }

  /** A file of the shown version, from the server's store (where the job may since be gone). */
  private readFile(path: string): Promise<IStoredFile> {
    const { name, version } = this.record!;
    return this.client.readFile(name, path, version);
  }

  private readonly client = new JobsClient();
  private runs: IJobRun[] | null = null;

  protected render(): JSX.Element | null {
    return this.record ? (
      <JobDetails
        record={this.record}
        where="notebook"
        runs={this.runs}
        comparison={null}
        created={false}
        onCopy={text => Clipboard.copyToSystem(text)}
        onReadFile={
          this.record.dry_run ? undefined : path => this.readFile(path)
        }
        wandb={null}
        busy={false}
      />
    ) : null;
  }
}
