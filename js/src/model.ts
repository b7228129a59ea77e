/**
 * State of the W&B Jobs panel and the actions that change it.
 *
 * The React components only render `JobsModel.state` and call these methods; every call to
 * the server or the kernel goes through `JobsClient`.
 */
import { NotebookPanel } from '@jupyterlab/notebook';
import { Kernel } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { JobsClient, JobsError, NO_KERNEL_MESSAGE } from './client';
import {
  IComparison,
  ICreateRequest,
  IJobRecord,
  IJobRun,
  IJobSummary,
  IRunOverrides
} from './tokens';

/** Where the record on display came from. */
type RecordOrigin = 'created' | 'store';

interface IPanelError {
  message: string;
  /** The notebook to create from its saved file, when that way forward makes sense. */
  fallbackPath: string | null;
}

export interface IPanelState {
  busy: string | null;
  /** The busy wait can be cancelled (a kernel still running a cell). */
  cancellable: boolean;
  record: IJobRecord | null;
  origin: RecordOrigin | null;
  /** The shown job's runs; null while they load (or for a dry run, which stores nothing). */
  runs: IJobRun[] | null;
  /** What changed from the version before the shown one; null for a first version or a dry run. */
  comparison: IComparison | null;
  /** The shown job's versions, newest first, with their aliases (the version picker). */
  versions: IJobSummary[];
  error: IPanelError | null;
  /** What W&B got from the last Publish or Launch of the shown job, in words. */
  wandb: string | null;
  jobs: IJobSummary[];
  total: number;
  listError: string | null;
  /** The list's search text: only jobs whose name holds it are listed. */
  search: string;
  allowSecrets: boolean;
  stripOutputs: boolean;
  /** The Include and Exclude fields as typed: patterns separated by spaces or commas. */
  include: string;
  exclude: string;
}

export class JobsModel {
  constructor(readonly client: JobsClient = new JobsClient()) {}

  get state(): IPanelState {
    return this._state;
  }

  /** Emitted whenever `state` is replaced. */
  get stateChanged(): ISignal<this, IPanelState> {
    return this._stateChanged;
  }

  /**
   * The panel now serves the notebook at `path` (another tab, or a rename): what was shown or
   * chosen for another notebook goes, and this one's own options come back. Allow secrets is
   * never carried over: it is a decision about one notebook's findings.
   */
  setNotebook(path: string | null): void {
    if (path === this._notebook) {
      return;
    }
    if (this._notebook !== null) {
      const { stripOutputs, include, exclude } = this._state;
      this._options.set(this._notebook, { stripOutputs, include, exclude });
    }
    this._notebook = path;
    this.update({
      ...NOTEBOOK_DEFAULTS,
      ...(path === null ? {} : this._options.get(path)),
      record: null,
      origin: null,
      runs: null,
      comparison: null,
      wandb: null,
      error: null
    });
  }

  /** The same notebook under a new name keeps its state. */
  notebookRenamed(oldPath: string, newPath: string): void {
    if (this._notebook === oldPath) {
      this._notebook = newPath;
    }
  }

  setAllowSecrets(allow: boolean): void {
    this.update({ allowSecrets: allow });
  }

  setStripOutputs(strip: boolean): void {
    this.update({ stripOutputs: strip });
  }

  setInclude(include: string): void {
    this.update({ include });
  }

  setExclude(exclude: string): void {
    this.update({ exclude });
  }

  /**
   * Save the notebook, then create its job in its kernel so the active run is used.
   * Without a kernel, say so and offer the saved-file route instead.
   */
  async createForNotebook(panel: NotebookPanel | null): Promise<void> {
    if (!panel) {
      this.fail(
        'Open a notebook first: the job is created from the active notebook.'
      );
      return;
    }
    const path = panel.context.path;
    await this.run(
      `Saving ${basename(path)}…`,
      async () => {
        // Only unsaved changes are saved: a save rewrites the file, which dirties a clean git
        // checkout (and its job then carries a diff.patch) for nothing.
        if (panel.context.model.dirty) {
          await panel.context.save();
        }
        const kernel = panel.sessionContext.session?.kernel ?? null;
        if (!kernel) {
          throw new JobsError(NO_KERNEL_MESSAGE, true);
        }
        if (kernel.status === 'busy' && !(await this.untilIdle(kernel, path))) {
          return; // cancelled: nothing was sent to the kernel
        }
        this.update({
          busy: `Creating the job in the kernel of ${basename(path)}…`
        });
        const record = await this.client.createInKernel(
          kernel,
          this.request(path)
        );
        this.show(record, 'created');
      },
      path
    );
    await this.refreshJobs();
  }

  /**
   * Wait, cancellably, for the kernel to finish the cell it is running: a request sent now
   * would queue behind that cell where nothing could take it back. True once it is idle.
   */
  private untilIdle(
    kernel: Kernel.IKernelConnection,
    path: string
  ): Promise<boolean> {
    this.update({
      busy: `Waiting for the running cell in ${basename(path)} to finish: the job is created after it`,
      cancellable: true
    });
    return new Promise(resolve => {
      const onStatus = (_: unknown, status: Kernel.Status): void => {
        if (status === 'idle') {
          done(true);
        }
      };
      const done = (idle: boolean): void => {
        kernel.statusChanged.disconnect(onStatus);
        this._cancelWait = null;
        this.update({ cancellable: false });
        resolve(idle);
      };
      kernel.statusChanged.connect(onStatus);
      this._cancelWait = () => done(false);
    });
  }

  /** Stop waiting for a busy kernel; the job is not created. */
  cancelWaiting(): void {
    this._cancelWait?.();
  }

  /** Create the job from the saved file through the server: no kernel, no run. */
  async createFromSavedFile(path: string): Promise<void> {
    await this.run(
      `Creating the job from the saved ${basename(path)}…`,
      async () => {
        const record = await this.client.createFromFile(this.request(path));
        this.show(record, 'created');
      }
    );
    await this.refreshJobs();
  }

  /**
   * Start the shown version on the server with `overrides` (`KEY=VALUE`, `PATH:KEY=VALUE`). The
   * server answers at once; the panel stays usable and follows the run until it ends
   * (`followRuns`).
   */
  async runJob(record: IJobRecord, overrides: IRunOverrides): Promise<void> {
    const label = `${record.name}:${record.version}`;
    await this.run(`Starting ${label} on this server…`, async () => {
      const queued = await this.client.runJob(
        record.name,
        record.version,
        overrides
      );
      this.update({ runs: [queued, ...(this._state.runs ?? [])] });
    });
    void this.followRuns(record.name);
  }

  /** Cancel a queued or running run of the shown job. */
  async cancelRun(run: IJobRun): Promise<void> {
    const name = run.job.split(':')[0];
    try {
      this.replaceRun(await this.client.cancelRun(name, run.id));
    } catch (error) {
      this.fail(messageOf(error));
    }
  }

  /**
   * While the shown job has queued or running runs, fetch them (with their live log tails)
   * every second; one loop per job, ended when the job is no longer shown.
   */
  private async followRuns(name: string): Promise<void> {
    if (this._following.has(name)) {
      return;
    }
    this._following.add(name);
    try {
      for (;;) {
        const going = (this._state.runs ?? []).filter(isGoing);
        if (this._state.record?.name !== name || going.length === 0) {
          return;
        }
        await new Promise(resolve => setTimeout(resolve, FOLLOW_MS));
        for (const run of going) {
          const fresh = await this.client
            .getRun(name, run.id)
            .catch(() => null);
          if (fresh && this._state.record?.name === name) {
            this.replaceRun(fresh);
          }
        }
      }
    } finally {
      this._following.delete(name);
    }
  }

  private replaceRun(fresh: IJobRun): void {
    const runs = (this._state.runs ?? []).map(run =>
      run.id === fresh.id ? fresh : run
    );
    this.update({ runs });
  }

  /**
   * Put the shown version into W&B, or with a `queue` also on that W&B Launch queue; what W&B
   * got is shown (offline: the `wandb sync` command that uploads it).
   */
  async toWandb(record: IJobRecord, queue?: string): Promise<void> {
    const label = `${record.name}:${record.version}`;
    const doing =
      queue === undefined ? 'Publishing' : `Launching (queue ${queue})`;
    await this.run(`${doing} ${label} on W&B…`, async () => {
      const outcome = await this.client.toWandb(
        record.name,
        record.version,
        queue
      );
      this.update({ wandb: outcome.summary });
    });
  }

  /** Reload the list of jobs in the store. */
  async refreshJobs(): Promise<void> {
    try {
      const list = await this.client.listJobs(100, 0, this._state.search);
      this.update({ jobs: list.jobs, total: list.total, listError: null });
    } catch (error) {
      this.update({ listError: messageOf(error) });
    }
  }

  /** Show what changed from `before` to the shown version (any two versions). */
  async compareWith(before: string): Promise<void> {
    const shown = this._state.record;
    if (!shown) {
      return;
    }
    await this.run(`Comparing ${shown.version} with ${before}…`, async () => {
      const comparison = await this.client.compareJob(
        shown.name,
        shown.version,
        before
      );
      this.update({ comparison });
    });
  }

  /** List only the jobs whose name holds `search`. */
  async setSearch(search: string): Promise<void> {
    this.update({ search });
    await this.refreshJobs();
  }

  /** Delete the shown job, or with `ref` one version of it (the panel has asked first). */
  async deleteJob(name: string, ref?: string): Promise<void> {
    await this.run(`Deleting ${ref ? `${name}:${ref}` : name}…`, async () => {
      await this.client.deleteJob(name, ref);
      this.update({ record: null, origin: null, runs: null, comparison: null });
      await this.refreshJobs();
    });
  }

  /** Show a stored job's details. */
  async openJob(name: string, ref?: string): Promise<void> {
    await this.run(`Loading ${name}…`, async () => {
      this.show(await this.client.getJob(name, ref), 'store');
    });
  }

  private request(path: string): ICreateRequest {
    return {
      path,
      source: 'auto',
      allow_secrets: this._state.allowSecrets,
      strip_outputs: this._state.stripOutputs,
      include: patterns(this._state.include),
      exclude: patterns(this._state.exclude)
    };
  }

  private show(record: IJobRecord, origin: RecordOrigin): void {
    this.update({
      record,
      origin,
      // Allowing secrets answers one create's findings; the next create is judged afresh.
      allowSecrets: origin === 'created' ? false : this._state.allowSecrets,
      error: null,
      runs: null,
      comparison: null,
      wandb: null
    });
    if (!record.dry_run) {
      void this.loadRuns(record.name);
      void this.loadVersions(record.name);
    }
    if (!record.dry_run && record.version !== 'v0') {
      void this.loadComparison(record.name, record.version);
    }
  }

  /** Fetch the job's versions for the picker; a failure leaves only the shown one. */
  private async loadVersions(name: string): Promise<void> {
    const versions = await this.client
      .listVersions(name)
      .then(reply => reply.jobs)
      .catch((): IJobSummary[] => []);
    if (this._state.record?.name === name) {
      this.update({ versions });
    }
  }

  /** Fetch what changed since the version before; without one, nothing is shown. */
  private async loadComparison(name: string, version: string): Promise<void> {
    const comparison = await this.client
      .compareJob(name, version)
      .catch(() => null);
    const shown = this._state.record;
    if (shown?.name === name && shown.version === version) {
      this.update({ comparison });
    }
  }

  /** Fetch the job's local runs; a failure shows as no runs rather than hiding the job. */
  private async loadRuns(name: string): Promise<void> {
    const runs = await this.client
      .getRuns(name)
      .then(reply => reply.runs)
      .catch((): IJobRun[] => []);
    if (this._state.record?.name === name) {
      this.update({ runs });
      void this.followRuns(name);
    }
  }

  private fail(message: string, fallbackPath: string | null = null): void {
    this.update({
      error: { message: panelWords(message), fallbackPath },
      busy: null
    });
  }

  /** Run one action with a busy message; its `JobsError` becomes the panel's error. */
  private async run(
    busy: string,
    action: () => Promise<void>,
    fallbackPath: string | null = null
  ): Promise<void> {
    this.update({ busy, error: null });
    try {
      await action();
    } catch (error) {
      const fallback = error instanceof JobsError && error.fallback;
      this.fail(messageOf(error), fallback ? fallbackPath : null);
      return;
    }
    this.update({ busy: null });
  }

  private update(change: Partial<IPanelState>): void {
    this._state = { ...this._state, ...change };
    this._stateChanged.emit(this._state);
  }

  private _state: IPanelState = {
    busy: null,
    cancellable: false,
    record: null,
    origin: null,
    runs: null,
    comparison: null,
    versions: [],
    error: null,
    wandb: null,
    jobs: [],
    total: 0,
    listError: null,
    search: '',
    ...NOTEBOOK_DEFAULTS
  };
  private _stateChanged = new Signal<this, IPanelState>(this);
  private _notebook: string | null = null;
  private _cancelWait: (() => void) | null = null;
  /** Each notebook's Strip outputs, Include and Exclude, kept while another is shown. */
  private _options = new Map<string, Partial<IPanelState>>();
  private _following = new Set<string>();
}

/** The options a notebook starts with. */
const NOTEBOOK_DEFAULTS = {
  allowSecrets: false,
  stripOutputs: false,
  include: '',
  exclude: ''
};

/** The command line's option names in a message, as the panel's own controls. */
const PANEL_WORDS: [RegExp, string][] = [
  [/(pass |use )?--allow-secrets/g, 'tick Allow secrets'],
  [/(pass |use )?--strip-outputs/g, 'tick Strip outputs']
];

function panelWords(message: string): string {
  return PANEL_WORDS.reduce(
    (text, [option, words]) => text.replace(option, words),
    message
  );
}

/** How often a queued or running run is fetched again. */
const FOLLOW_MS = 1000;

/** Whether a run has yet to end. */
function isGoing(run: IJobRun): boolean {
  return run.status === 'queued' || run.status === 'running';
}

/** `*.yaml, data/` → `["*.yaml", "data/"]`: the patterns a field holds. */
export function patterns(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

function basename(path: string): string {
  return path.split('/').pop() || path;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
