/**
 * Shapes shared by the server extension, the kernel and the panel.
 *
 * They mirror "The job record" and the REST API in docs/ARCHITECTURE.md; the panel only
 * reads these fields and never invents its own.
 */

/** MIME type of the job record that `panel_create` displays in the kernel. */
export const RESULT_MIME = 'application/vnd.jupyter-jobs.result+json';

/** MIME type of the `{"message": ...}` error that `panel_create` displays instead. */
export const ERROR_MIME = 'application/vnd.jupyter-jobs.error+json';

/** Id of the side-panel widget (and of its side-bar tab). */
export const PANEL_ID = 'jupyter-jobs-panel';

export namespace CommandIDs {
  export const create = 'jupyter-jobs:create';
}

type SourceType = 'repo' | 'artifact' | 'image';

type CheckOutcome = 'won' | 'passed' | 'failed' | 'skipped';

/** One of the three source checks (git, code artifact, image), in W&B's order. */
export interface IDecisionStep {
  check: 'git' | 'artifact' | 'image';
  outcome: CheckOutcome;
  reason: string;
}

/** What a piece of a job name stands for. */
type NameRole =
  'prefix' | 'remote' | 'separator' | 'path' | 'artifact' | 'image' | 'user';

export interface INamePart {
  text: string;
  role: NameRole;
}

export interface INaming {
  rule: string;
  parts: INamePart[];
  sanitised: boolean;
  truncated: boolean;
}

export interface ICodeArtifact {
  name: string;
  digest: string;
  /** `sha-…`: the version the job's `source.artifact` names. */
  alias: string;
  files: string[];
  /** The script's file name inside the artifact. */
  entrypoint: string;
  /** The local modules and files carried beside the script, and why each is there. */
  included: IIncludedFile[];
  /** Its store folder; null for a dry run. */
  path: string | null;
}

/** Where a git-sourced job's code is. */
export interface IGitSource {
  remote: string;
  commit: string;
  entrypoint: string;
  root: string;
}

export interface IIncludedFile {
  path: string;
  size: number;
  /** "imported in cell 2", "read in helper.py, line 4", "--include *.yaml" */
  reason: string;
}

export interface IRewrite {
  cell: number;
  line: number;
  kind: string;
  original: string;
  replacement: string;
}

/** W&B type-registry JSON, e.g. `{"wb_type": "number"}`. */
export interface IWBType {
  wb_type: string;
  params?: {
    type_map?: Record<string, IWBType>;
    element_type?: IWBType;
    allowed_types?: IWBType[];
    length?: number;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * The job record: what `create_job` returns and what the store keeps per version
 * (`JobRecord` in jupyter_jobs/models.py; tests/test_ts_types.py keeps the two alike).
 */
export interface IJobRecord {
  name: string;
  version: string;
  aliases: string[];
  digest: string;
  created_at: string;
  /** The version's store folder; null for a dry run. */
  path: string | null;
  source_type: SourceType;
  decision: IDecisionStep[];
  naming: INaming;
  spec: Record<string, unknown>;
  files: string[];
  code_artifact: ICodeArtifact;
  git: IGitSource | null;
  image: string | null;
  entrypoint: string[] | null;
  runtime: string;
  input_types: IWBType;
  output_types: IWBType;
  config: Record<string, unknown>;
  requirements: string[];
  warnings: string[];
  rewrites: IRewrite[];
  project: string;
  entity: string | null;
  notebook: string;
  dry_run: boolean;
  /** Dry runs only: whether the content would be a new version. */
  would_create: boolean | null;
  /** The job artifact's metadata: the inputs a run declared, if any. */
  metadata: Record<string, unknown> | null;
  /** The declared config files' input values, by path. */
  config_files: Record<string, unknown> | null;
  /** Every key a launch may override, typed, with its default and schema rule. */
  inputs: IInputRow[] | null;
  artifact_aliases: string[];
  launch_command: string;
  run_command: string;
}

/** One input of a job: a `wandb.config` key (`source` null) or a key of a declared config file. */
export interface IInputRow {
  source: string | null;
  key: string;
  type: string;
  default?: unknown;
  /** The schema's rule in words, e.g. `integer, 1 <= x <= 10`; empty without one. */
  allowed: string;
  rule?: {
    type?: string;
    minimum?: number;
    maximum?: number;
    exclusiveMinimum?: number;
    exclusiveMaximum?: number;
    enum?: (string | number)[];
    description?: string;
  };
}

/** Overrides for a local run: `KEY=VALUE` for wandb.config, `PATH:KEY=VALUE` for config files. */
export interface IRunOverrides {
  config: string[];
  files: string[];
}

/** One line of `GET jupyter-jobs/jobs`. */
export interface IJobSummary {
  name: string;
  version: string;
  versions: number;
  aliases: string[];
  source_type: SourceType;
  created_at: string;
}

export interface IJobList {
  jobs: IJobSummary[];
  total: number;
}

/** Where a run is: queued behind other runs, running, or how it ended. */
type RunStatus = 'queued' | 'running' | 'finished' | 'failed' | 'cancelled';

/** One run of a job (`jupyter jobs run` or the panel's Run), newest first from `GET jobs/<name>/runs`. */
export interface IJobRun {
  /** `name:vN`: the version that ran. */
  job: string;
  /** Null until the process has ended. */
  exit_code: number | null;
  started_at: string;
  seconds: number;
  overrides: Record<string, unknown>;
  workdir: string;
  log: string;
  run_dir: string | null;
  /** Why the store could not keep the run (a read-only store). */
  not_recorded: string | null;
  /** Config file path → nested overrides. */
  file_overrides: Record<string, unknown>;
  /** The run's id: `GET`/`DELETE jobs/<name>/runs/<id>`. */
  id: string;
  status: RunStatus;
  /** Why a failed or cancelled run ended, in one line. */
  error: string | null;
  /** The log's last lines (live from `GET runs/<id>`; kept for failed runs). */
  log_tail: string[];
  /** What ran: the exported script, and what Launch would run instead. */
  code: string;
}

/** What W&B got (`POST jobs/<name>/publish` and `.../launch`); `summary` says it in words. */
export interface IWandbOutcome {
  /** `entity/project/name:sha-…`: the version as W&B names it. */
  job: string;
  summary: string;
}

/** One part that differs, as a unified diff from the older version to the newer. */
export interface IChange {
  part: string;
  diff: string;
}

/** What changed from one version to another (`GET jobs/<name>/compare`). */
export interface IComparison {
  /** `name:vN` of the older and of the newer version. */
  before: string;
  after: string;
  /** The parts that differ. */
  changes: IChange[];
}

/** One file of a stored version (`GET jobs/<name>/files/<path>`); `text` is null for a binary file. */
export interface IStoredFile {
  /** `name:vN` of the version it belongs to. */
  job: string;
  path: string;
  /** Bytes. */
  size: number;
  text: string | null;
}

export interface IJobRuns {
  job: string;
  runs: IJobRun[];
}

/** What the panel asks the kernel (and, without a run, the server) to create. */
export interface ICreateRequest {
  path: string;
  source: 'auto' | 'git' | 'artifact' | 'image';
  allow_secrets: boolean;
  strip_outputs: boolean;
  /** gitignore-style patterns of files to carry too, and of files never to carry. */
  include: string[];
  exclude: string[];
}
