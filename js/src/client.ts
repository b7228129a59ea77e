/**
 * Typed client for the two back ends of the panel: the server's REST API
 * (`{baseUrl}jupyter-jobs/...`) and the notebook's kernel (`panel_create`).
 *
 * Everything that crosses a process boundary goes through here, so the UI code only ever sees
 * `IJobRecord`s, `IJobSummary`s and `JobsError`s.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { Kernel, KernelMessage, ServerConnection } from '@jupyterlab/services';

import {
  ERROR_MIME,
  ICreateRequest,
  IComparison,
  IJobList,
  IJobRecord,
  IJobRun,
  IJobRuns,
  IRunOverrides,
  IStoredFile,
  IWandbOutcome,
  RESULT_MIME
} from './tokens';

/**
 * A failure the user should read. `fallback` is true when creating the job from the saved
 * file, without the kernel, is a sensible way forward (no kernel, no run, kernel error).
 */
export class JobsError extends Error {
  constructor(
    message: string,
    readonly fallback: boolean = false
  ) {
    super(message);
    this.name = 'JobsError';
  }
}

/** Messages the panel shows when the kernel route cannot work. */
export const NO_KERNEL_MESSAGE =
  'This notebook has no running kernel, so there is no active W&B run to create the job from.';

export class JobsClient {
  constructor(
    private readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  /** The jobs in the store, newest first; with `search`, those whose name holds it. */
  listJobs(limit = 100, offset = 0, search = ''): Promise<IJobList> {
    const query = URLExt.objectToQueryString({ limit, offset, search });
    return this.request<IJobList>(`jobs${query}`, { method: 'GET' });
  }

  /** Every version of a job, newest first, with its aliases. */
  listVersions(name: string): Promise<IJobList> {
    return this.request<IJobList>(`jobs/${encodeURIComponent(name)}/versions`, {
      method: 'GET'
    });
  }

  /** Delete a whole job (and its runs), or with `ref` that one version. */
  deleteJob(name: string, ref?: string): Promise<{ deleted: string[] }> {
    const query = ref ? URLExt.objectToQueryString({ ref }) : '';
    return this.request<{ deleted: string[] }>(
      `jobs/${encodeURIComponent(name)}${query}`,
      { method: 'DELETE' }
    );
  }

  /** The record of one job version (the latest unless `ref` names a version or alias). */
  getJob(name: string, ref?: string): Promise<IJobRecord> {
    const query = ref ? URLExt.objectToQueryString({ ref }) : '';
    return this.request<IJobRecord>(
      `jobs/${encodeURIComponent(name)}${query}`,
      { method: 'GET' }
    );
  }

  /** The job's local runs (`jupyter jobs run`), newest first. */
  getRuns(name: string, limit = 10): Promise<IJobRuns> {
    const query = URLExt.objectToQueryString({ limit });
    return this.request<IJobRuns>(
      `jobs/${encodeURIComponent(name)}/runs${query}`,
      { method: 'GET' }
    );
  }

  /**
   * Start a job version on the server as `jupyter jobs run` does (`config`: `KEY=VALUE`
   * overrides, `files`: `PATH:KEY=VALUE` overrides of declared config files); the answer comes
   * at once, with the queued run.
   */
  runJob(
    name: string,
    ref: string,
    overrides: IRunOverrides
  ): Promise<IJobRun> {
    return this.request<IJobRun>(`jobs/${encodeURIComponent(name)}/runs`, {
      method: 'POST',
      body: JSON.stringify({
        ref,
        config: overrides.config,
        files: overrides.files
      })
    });
  }

  /** One run, with the live tail of its log. */
  getRun(name: string, id: string): Promise<IJobRun> {
    return this.request<IJobRun>(this.runPath(name, id), { method: 'GET' });
  }

  /** Cancel a queued or running run; the answer says how it ended. */
  cancelRun(name: string, id: string): Promise<IJobRun> {
    return this.request<IJobRun>(this.runPath(name, id), { method: 'DELETE' });
  }

  private runPath(name: string, id: string): string {
    return `jobs/${encodeURIComponent(name)}/runs/${encodeURIComponent(id)}`;
  }

  /**
   * Put a version into W&B (`jupyter jobs publish`), or with a `queue` also on that W&B Launch
   * queue (`jupyter jobs launch`); the answer comes when W&B has taken it.
   */
  toWandb(name: string, ref: string, queue?: string): Promise<IWandbOutcome> {
    const action = queue === undefined ? 'publish' : 'launch';
    return this.request<IWandbOutcome>(
      `jobs/${encodeURIComponent(name)}/${action}`,
      {
        method: 'POST',
        body: JSON.stringify(queue === undefined ? { ref } : { ref, queue })
      }
    );
  }

  /** What changed from the version before `ref` to `ref`. */
  compareJob(name: string, ref: string, before?: string): Promise<IComparison> {
    const query = URLExt.objectToQueryString(
      before ? { ref, before } : { ref }
    );
    return this.request<IComparison>(
      `jobs/${encodeURIComponent(name)}/compare${query}`,
      { method: 'GET' }
    );
  }

  /** One file of a job version (the latest unless `ref` names one), to read; `text` is null for a binary file. */
  readFile(name: string, path: string, ref?: string): Promise<IStoredFile> {
    const query = ref ? URLExt.objectToQueryString({ ref }) : '';
    const file = path.split('/').map(encodeURIComponent).join('/');
    return this.request<IStoredFile>(
      `jobs/${encodeURIComponent(name)}/files/${file}${query}`,
      { method: 'GET' }
    );
  }

  /** Create a job from the saved file on the server, with no kernel and no run. */
  createFromFile(request: ICreateRequest): Promise<IJobRecord> {
    return this.request<IJobRecord>('jobs', {
      method: 'POST',
      body: JSON.stringify(request)
    });
  }

  /**
   * Create a job in the notebook's kernel, so that its active run is used.
   *
   * The kernel displays the record (or an error) under our own MIME types; reading them from
   * iopub keeps the data structured instead of scraping printed text.
   */
  async createInKernel(
    kernel: Kernel.IKernelConnection,
    request: ICreateRequest
  ): Promise<IJobRecord> {
    const code =
      'import jupyter_jobs.magic as _jj; ' +
      `_jj.panel_create(${pythonStringLiteral(asciiJSON(request))})`;
    const future = kernel.requestExecute({
      code,
      silent: false,
      store_history: false
    });
    let record: IJobRecord | null = null;
    let failure: string | null = null;
    let fallback = true;
    future.onIOPub = (msg: KernelMessage.IIOPubMessage): void => {
      if (
        KernelMessage.isDisplayDataMsg(msg) ||
        KernelMessage.isExecuteResultMsg(msg)
      ) {
        const data = msg.content.data;
        if (RESULT_MIME in data) {
          record = parseMime<IJobRecord>(data[RESULT_MIME]);
        } else if (ERROR_MIME in data) {
          const error = parseMime<{
            message: string;
            saved_file_helps?: boolean;
          }>(data[ERROR_MIME]);
          failure =
            error.message ?? 'The kernel reported an error without a message.';
          fallback = error.saved_file_helps ?? true;
        }
      } else if (KernelMessage.isErrorMsg(msg)) {
        failure = `${msg.content.ename}: ${msg.content.evalue}`;
      }
    };
    try {
      await future.done;
    } catch (reason) {
      if (!failure && !record) {
        failure = `The kernel did not finish the request: ${String(reason)}`;
      }
    } finally {
      future.dispose();
    }
    if (failure !== null) {
      throw new JobsError(failure, fallback);
    }
    if (record === null) {
      throw new JobsError(
        'The kernel returned no job. Is jupyter-jobs installed in the kernel’s environment?',
        true
      );
    }
    return record;
  }

  private async request<T>(endpoint: string, init: RequestInit): Promise<T> {
    const url = URLExt.join(this.settings.baseUrl, 'jupyter-jobs', endpoint);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new JobsError(
        `The Jupyter server did not answer: ${String(error)}`
      );
    }
    const text = await response.text();
    let data: any = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const message =
        data && typeof data.message === 'string'
          ? data.message
          : `The server answered ${response.status} ${response.statusText}.`;
      throw new JobsError(message);
    }
    return data as T;
  }
}

/** A MIME bundle value may arrive as a JSON object or as its serialised text. */
export function parseMime<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** JSON with every non-ASCII character escaped, so it can sit in Python source as is. */
function asciiJSON(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    c => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')
  );
}

/** A single-quoted Python string literal for ASCII text without line breaks. */
function pythonStringLiteral(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
