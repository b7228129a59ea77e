import { NotebookPanel } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';
import { describe, expect, it } from 'vitest';

import { JobsClient, JobsError } from '../client';
import { JobsModel } from '../model';
import { IJobList, IJobRecord, IJobRun } from '../tokens';

/**
 * A client answering as the server would, from fixed replies (the model is what is tested).
 * A request with no reply given fails, as a server that cannot answer it would.
 */
function clientWith(
  replies: Partial<Record<keyof JobsClient, unknown>>
): JobsClient {
  const given: Record<string, unknown> = replies;
  const answer = (name: string) => async () => {
    const reply =
      name in given ? given[name] : new JobsError(`no reply to ${name}`);
    if (reply instanceof Error) {
      throw reply;
    }
    return reply;
  };
  // A method a test sets on the client itself wins over the fixed replies.
  return new Proxy({} as Record<string, unknown>, {
    get: (target, name: string) => target[name] ?? answer(name)
  }) as unknown as JobsClient;
}

const RECORD = {
  name: 'job-a',
  version: 'v1',
  dry_run: false
} as IJobRecord;

describe('JobsModel', () => {
  it('lists the jobs the server has, and says why when it cannot', async () => {
    const list: IJobList = { jobs: [], total: 3 };
    const model = new JobsModel(clientWith({ listJobs: list }));
    await model.refreshJobs();
    expect(model.state.total).toBe(3);
    expect(model.state.listError).toBeNull();

    const failing = new JobsModel(
      clientWith({
        listJobs: new JobsError('The Jupyter server did not answer')
      })
    );
    await failing.refreshJobs();
    expect(failing.state.listError).toBe('The Jupyter server did not answer');
  });

  it('shows an opened job with its runs and what changed since the version before', async () => {
    const runs: IJobRun[] = [];
    const model = new JobsModel(
      clientWith({
        getJob: RECORD,
        getRuns: { job: 'job-a', runs },
        compareJob: { before: 'job-a:v0', after: 'job-a:v1', changes: [] }
      })
    );
    const changed = new Promise(resolve => {
      model.stateChanged.connect((_, state) => {
        if (state.comparison && state.runs) {
          resolve(state);
        }
      });
    });
    await model.openJob('job-a');
    await changed;
    expect(model.state.record?.name).toBe('job-a');
    expect(model.state.origin).toBe('store');
    expect(model.state.comparison?.before).toBe('job-a:v0');
    expect(model.state.busy).toBeNull();
  });

  it('answers a Run at once, then follows the run until it has failed, with its error', async () => {
    const run = {
      id: 'r1',
      job: 'job-a:v1',
      status: 'queued',
      exit_code: null,
      error: null,
      log_tail: []
    } as unknown as IJobRun;
    const failed = {
      ...run,
      status: 'failed',
      exit_code: 2,
      error: 'exit code 2: ValueError: bad shard',
      log_tail: ['loading', 'ValueError: bad shard']
    };
    const model = new JobsModel(
      clientWith({
        getJob: RECORD,
        getRuns: { job: 'job-a', runs: [] },
        compareJob: { before: 'job-a:v0', after: 'job-a:v1', changes: [] },
        runJob: run,
        getRun: failed
      })
    );
    await model.openJob('job-a');
    await model.runJob(RECORD, { config: ['lr=0.1'], files: [] });
    expect(model.state.busy).toBeNull();
    expect(model.state.runs?.[0].status).toBe('queued');
    await new Promise(resolve => setTimeout(resolve, 1500));
    expect(model.state.runs?.[0].status).toBe('failed');
    expect(model.state.runs?.[0].error).toBe(
      'exit code 2: ValueError: bad shard'
    );
    expect(model.state.error).toBeNull();
  });

  it('keeps each notebook to its own state: nothing shown or chosen for one leaks into the next', async () => {
    const model = new JobsModel(
      clientWith({
        createFromFile: RECORD,
        getRuns: { job: 'job-a', runs: [] },
        compareJob: null,
        listJobs: { jobs: [], total: 0 }
      })
    );
    model.setNotebook('a.ipynb');
    model.setAllowSecrets(true);
    model.setStripOutputs(true);
    model.setInclude('*.yaml');
    await model.createFromSavedFile('a.ipynb');
    expect(model.state.record?.name).toBe('job-a');
    expect(model.state.allowSecrets).toBe(false); // one decision, for one create

    model.setAllowSecrets(true);
    model.setNotebook('b.ipynb');
    expect(model.state.record).toBeNull();
    expect(model.state.allowSecrets).toBe(false);
    expect(model.state.stripOutputs).toBe(false);
    expect(model.state.include).toBe('');

    model.setNotebook('a.ipynb');
    expect(model.state.stripOutputs).toBe(true); // a's own options come back
    expect(model.state.include).toBe('*.yaml');
    expect(model.state.allowSecrets).toBe(false);
  });

  it("keeps a renamed notebook's state", () => {
    const model = new JobsModel(clientWith({}));
    model.setNotebook('a.ipynb');
    model.setInclude('*.yaml');
    model.notebookRenamed('a.ipynb', 'b.ipynb');
    model.setNotebook('b.ipynb');
    expect(model.state.include).toBe('*.yaml');
  });

  it("shows a secrets error with the panel's own words and no saved-file offer", async () => {
    const model = new JobsModel(
      clientWith({
        createFromFile: new JobsError(
          'Secrets found: cell 2, line 1 (W&B API key) (read them from the environment, or pass --allow-secrets)'
        )
      })
    );
    await model.createFromSavedFile('a.ipynb');
    expect(model.state.error).toEqual({
      message:
        'Secrets found: cell 2, line 1 (W&B API key) (read them from the environment, or tick Allow secrets)',
      fallbackPath: null
    });
  });

  it('waits for a busy kernel, cancellably, and sends nothing when cancelled', async () => {
    const sent: string[] = [];
    const client = clientWith({
      listJobs: { jobs: [], total: 0 },
      getRuns: { job: 'job-a', runs: [] },
      compareJob: null
    });
    (client as unknown as Record<string, unknown>).createInKernel =
      async () => {
        sent.push('create');
        return RECORD;
      };
    const kernel = {
      status: 'busy',
      statusChanged: new Signal<unknown, string>({})
    };
    const panel = {
      context: { path: 'a.ipynb', model: { dirty: false } },
      sessionContext: { session: { kernel } }
    } as unknown as NotebookPanel;
    const model = new JobsModel(client);

    const cancelled = model.createForNotebook(panel);
    await Promise.resolve();
    expect(model.state.busy).toContain(
      'Waiting for the running cell in a.ipynb'
    );
    expect(model.state.cancellable).toBe(true);
    model.cancelWaiting();
    await cancelled;
    expect(sent).toEqual([]);
    expect(model.state.busy).toBeNull();
    expect(model.state.cancellable).toBe(false);

    const created = model.createForNotebook(panel);
    await Promise.resolve();
    kernel.status = 'idle';
    kernel.statusChanged.emit('idle');
    await created;
    expect(sent).toEqual(['create']);
    expect(model.state.record?.name).toBe('job-a');
  });
});
