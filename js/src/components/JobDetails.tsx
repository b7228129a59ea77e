/**
 * The details of one job version: the same facts as the notebook widget (name and the rule
 * that made it, the source decision, entrypoint, inputs, outputs, runtime, requirements,
 * warnings and the launch command). Render only.
 */
import * as React from 'react';

import {
  IComparison,
  IDecisionStep,
  IJobRecord,
  IJobRun,
  IJobSummary,
  IRunOverrides,
  IWBType
} from '../tokens';
import { typeRows } from '../wbtypes';
import { InputsRunForm, InputsTable } from './Inputs';
import { VersionPicker } from './VersionPicker';

export interface IJobDetailsProps {
  record: IJobRecord;
  /** The job's local runs, newest first; null while loading or for a dry run. */
  runs: IJobRun[] | null;
  /** What changed from the version before; null when there is none (or it is loading). */
  comparison: IComparison | null;
  /** Whether the record was just created (rather than opened from the store). */
  created: boolean;
  onCopy: (text: string) => void;
  /** Run this version on the server with config overrides (absent in a notebook output). */
  onRun?: (overrides: IRunOverrides) => void;
  /** Cancel a queued or running run (absent in a notebook output). */
  onCancelRun?: (run: IJobRun) => void;
  /** Put this version into W&B; with a queue, also on that W&B Launch queue (absent in a notebook output). */
  onWandb?: (queue?: string) => void;
  /** The job's versions with their aliases, and opening one (absent in a notebook output). */
  versions?: IJobSummary[];
  onVersion?: (version: string) => void;
  /** Compare the shown version with another one. */
  onCompare?: (before: string) => void;
  /** Delete the whole job, or with `ref` this version (absent in a notebook output). */
  onDelete?: (ref?: string) => void;
  /** What W&B got from the last Publish or Launch, in words. */
  wandb: string | null;
  /** Whether an action is under way (the Run button waits for it). */
  busy: boolean;
}

const CHECK_LABELS: Record<IDecisionStep['check'], string> = {
  git: 'Git repository with a remote',
  artifact: 'Code artifact (log_code)',
  image: 'Docker image (WANDB_DOCKER)'
};

const SOURCE_LABELS: Record<string, string> = {
  repo: 'git (repo)',
  artifact: 'code artifact (artifact)',
  image: 'docker image (image)'
};

export function JobDetails(props: IJobDetailsProps): JSX.Element {
  const { record } = props;
  const entrypoint = Array.isArray(record.entrypoint)
    ? record.entrypoint.join(' ')
    : record.entrypoint;
  return (
    <section className="jp-JobsPanel-details" aria-label="Job details">
      <div className="jp-JobsPanel-status">
        {record.dry_run
          ? 'Dry run: nothing was written'
          : props.created
            ? 'Job created'
            : 'Job in the store'}
      </div>
      <h3 className="jp-JobsPanel-jobName" title={record.name}>
        {record.name}
      </h3>
      <div className="jp-JobsPanel-meta">
        <span className="jp-JobsPanel-version">{record.version}</span>
        {(record.aliases ?? []).map(alias => (
          <span key={alias} className="jp-JobsPanel-alias">
            {alias}
          </span>
        ))}
        <span
          className="jp-JobsPanel-sourceType"
          data-source={record.source_type}
        >
          {SOURCE_LABELS[record.source_type] ?? record.source_type}
        </span>
      </div>
      {props.versions && props.versions.length > 1 && (
        <VersionPicker
          record={record}
          versions={props.versions}
          busy={props.busy}
          onVersion={props.onVersion}
          onCompare={props.onCompare}
        />
      )}
      <Naming record={record} />
      <Field label="Source decision">
        <Decision steps={record.decision} />
      </Field>
      <Field label="Entrypoint">
        <code>{entrypoint}</code>
      </Field>
      <Field label="Inputs (config)">
        {record.inputs ? (
          <InputsTable rows={record.inputs} />
        ) : (
          <TypeTable type={record.input_types} empty="No config keys" />
        )}
      </Field>
      <Field label="Outputs (summary)">
        <TypeTable type={record.output_types} empty="No summary keys" />
      </Field>
      <Field label="Runtime">
        <code>Python {record.runtime}</code>
      </Field>
      <Field label="Project">
        {[record.entity, record.project].filter(Boolean).join('/') || '—'}
      </Field>
      <Field label="Notebook">
        <code>{record.notebook}</code>
      </Field>
      <Field label="Created">{record.created_at}</Field>
      {(record.code_artifact?.included ?? []).length > 0 && (
        <Field label="Carries">
          <ul className="jp-JobsPanel-included">
            {record.code_artifact!.included!.map(file => (
              <li key={file.path}>
                <code>{file.path}</code> <span>{file.reason}</span>
              </li>
            ))}
          </ul>
        </Field>
      )}
      {record.code_artifact && (
        <Collapsible title={`Code artifact ${record.code_artifact.name}`}>
          <div className="jp-JobsPanel-digest">
            digest <code>{record.code_artifact.digest}</code>
          </div>
          <ul className="jp-JobsPanel-files">
            {record.code_artifact.files.map(file => (
              <li key={file}>{file}</li>
            ))}
          </ul>
        </Collapsible>
      )}
      <Collapsible
        title={`Requirements (${(record.requirements ?? []).length})`}
      >
        <pre className="jp-JobsPanel-pre">
          {(record.requirements ?? []).join('\n')}
        </pre>
      </Collapsible>
      {(record.rewrites ?? []).length > 0 && (
        <Collapsible title={`Rewritten lines (${record.rewrites.length})`}>
          <ul className="jp-JobsPanel-rewrites">
            {record.rewrites.map((r, i) => (
              <li key={i}>
                cell {r.cell}, line {r.line} ({r.kind}):{' '}
                <code>{r.original}</code>
                {' → '}
                <code>{r.replacement || '(removed)'}</code>
              </li>
            ))}
          </ul>
        </Collapsible>
      )}
      {(record.warnings ?? []).length > 0 && (
        <ul className="jp-JobsPanel-warnings" aria-label="Warnings">
          {record.warnings.map((warning, i) => (
            <li key={i} className="jp-JobsPanel-warning">
              {warning}
            </li>
          ))}
        </ul>
      )}
      {props.comparison && <Changes comparison={props.comparison} />}
      {!record.dry_run && props.onRun && (
        <Field label="Local runs">
          {record.metadata && record.inputs ? (
            <InputsRunForm
              record={record}
              rows={record.inputs}
              busy={props.busy}
              onRun={props.onRun}
            />
          ) : (
            <RunForm
              keys={typeRows(record.input_types).map(([key]) => key)}
              busy={props.busy}
              onRun={props.onRun}
            />
          )}
          <Runs runs={props.runs} onCancel={props.onCancelRun} />
        </Field>
      )}
      {!record.dry_run && props.onWandb && (
        <Field label="W&B">
          <WandbForm busy={props.busy} onWandb={props.onWandb} />
          {props.wandb && (
            <pre className="jp-JobsPanel-pre jp-JobsPanel-wandb">
              {props.wandb}
            </pre>
          )}
        </Field>
      )}
      {!record.dry_run && props.onDelete && (
        <div className="jp-JobsPanel-runForm">
          <button
            className="jp-Button jp-mod-styled jp-mod-reject jp-JobsPanel-deleteVersion"
            onClick={() => props.onDelete!(record.version)}
            disabled={props.busy}
            title="Delete this version from the store, as jupyter jobs delete NAME:VERSION does"
          >
            Delete {record.version}
          </button>
          <button
            className="jp-Button jp-mod-styled jp-mod-reject jp-JobsPanel-deleteJob"
            onClick={() => props.onDelete!()}
            disabled={props.busy}
            title="Delete the job, all its versions and its runs, as jupyter jobs delete NAME does"
          >
            Delete job
          </button>
        </div>
      )}
      <Field label="Launch command">
        <div className="jp-JobsPanel-launch">
          <pre className="jp-JobsPanel-pre">{record.launch_command}</pre>
          <button
            className="jp-Button jp-mod-styled jp-mod-reject jp-JobsPanel-copy"
            onClick={() => props.onCopy(record.launch_command)}
            title="Copy the launch command"
          >
            Copy
          </button>
        </div>
      </Field>
    </section>
  );
}

function Field(props: {
  label: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-JobsPanel-field">
      <div className="jp-JobsPanel-label">{props.label}</div>
      <div className="jp-JobsPanel-value">{props.children}</div>
    </div>
  );
}

function Collapsible(props: {
  title: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <details className="jp-JobsPanel-collapsible">
      <summary>{props.title}</summary>
      {props.children}
    </details>
  );
}

/** The parts that changed since the version before, each a diff with `+`/`-` lines marked. */
function Changes(props: { comparison: IComparison }): JSX.Element {
  const { before, changes } = props.comparison;
  const version = before.split(':').pop();
  if (changes.length === 0) {
    return <Field label={`Changes from ${version}`}>None</Field>;
  }
  return (
    <Collapsible
      title={`Changes from ${version}: ${changes.map(c => c.part).join(', ')}`}
    >
      {changes.map(change => (
        <pre
          key={change.part}
          className="jp-JobsPanel-pre jp-JobsPanel-diff"
          data-part={change.part}
        >
          {change.diff.split('\n').map((line, i) => (
            <div key={i} data-mark={diffMark(line)}>
              {line}
            </div>
          ))}
        </pre>
      ))}
    </Collapsible>
  );
}

/** How a unified-diff line reads: added, removed, or context (file headers are context). */
function diffMark(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---')) {
    return 'header';
  }
  return line.startsWith('+')
    ? 'added'
    : line.startsWith('-')
      ? 'removed'
      : 'context';
}

/** Config overrides as `KEY=VALUE` words, and the button that runs the job with them. */
function RunForm(props: {
  keys: string[];
  busy: boolean;
  onRun: (overrides: IRunOverrides) => void;
}): JSX.Element {
  const [config, setConfig] = React.useState('');
  return (
    <div className="jp-JobsPanel-runForm">
      <input
        className="jp-JobsPanel-runConfig"
        aria-label="Config overrides"
        placeholder={
          props.keys.length
            ? props.keys.map(key => `${key}=…`).join(' ')
            : 'no config keys'
        }
        value={config}
        onChange={event => setConfig(event.currentTarget.value)}
      />
      <button
        className="jp-Button jp-mod-styled jp-mod-accept jp-JobsPanel-runButton"
        onClick={() =>
          props.onRun({
            config: config.split(/\s+/).filter(Boolean),
            files: []
          })
        }
        disabled={props.busy}
        title="Run this version on the Jupyter server with offline W&B, as jupyter jobs run does"
      >
        Run
      </button>
    </div>
  );
}

/** Publish the version to W&B, or put it on a W&B Launch queue (publishing it if needed). */
function WandbForm(props: {
  busy: boolean;
  onWandb: (queue?: string) => void;
}): JSX.Element {
  const [queue, setQueue] = React.useState('');
  return (
    <div className="jp-JobsPanel-runForm">
      <button
        className="jp-Button jp-mod-styled jp-mod-reject jp-JobsPanel-publishButton"
        onClick={() => props.onWandb()}
        disabled={props.busy}
        title="Put this version and its code into W&B, as jupyter jobs publish does"
      >
        Publish
      </button>
      <input
        className="jp-JobsPanel-runConfig jp-JobsPanel-queue"
        aria-label="Launch queue"
        placeholder="W&B Launch queue"
        value={queue}
        onChange={event => setQueue(event.currentTarget.value)}
      />
      <button
        className="jp-Button jp-mod-styled jp-mod-accept jp-JobsPanel-launchButton"
        onClick={() => props.onWandb(queue.trim())}
        disabled={props.busy || !queue.trim()}
        title="Put this version on the W&B Launch queue, as jupyter jobs launch does"
      >
        Launch
      </button>
    </div>
  );
}

/**
 * When each run started, which version ran, where it is (queued, running, finished, failed,
 * cancelled) and with what config; a queued or running run can be cancelled and shows its
 * log's last lines as they come, a failed one its error and last lines.
 */
function Runs(props: {
  runs: IJobRun[] | null;
  onCancel?: (run: IJobRun) => void;
}): JSX.Element {
  if (props.runs === null) {
    return <span className="jp-JobsPanel-empty">Loading…</span>;
  }
  if (props.runs.length === 0) {
    return <span className="jp-JobsPanel-empty">None yet</span>;
  }
  return (
    <ul className="jp-JobsPanel-runs">
      {props.runs.map(run => (
        <li
          key={run.id || `${run.started_at}-${run.log}`}
          className="jp-JobsPanel-run"
          data-status={run.status}
          data-exit-code={run.exit_code ?? ''}
          title={run.code}
        >
          {run.started_at.replace('T', ' ').slice(0, 19)} UTC ·{' '}
          {run.job.split(':').pop()} ·{' '}
          <span className="jp-JobsPanel-runStatus">{run.status}</span>
          {run.exit_code !== null &&
            run.exit_code !== 0 &&
            ` (exit ${run.exit_code})`}
          {run.status !== 'queued' && ` · ${run.seconds.toFixed(1)} s`}
          {Object.keys(run.overrides).length > 0 && (
            <>
              {' · '}
              <code>
                {Object.entries(run.overrides)
                  .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
                  .join(' ')}
              </code>
            </>
          )}
          {Object.keys(run.file_overrides ?? {}).length > 0 && (
            <>
              {' · '}
              <code>
                {Object.entries(run.file_overrides)
                  .map(([path, value]) => `${path}:${JSON.stringify(value)}`)
                  .join(' ')}
              </code>
            </>
          )}
          {props.onCancel &&
            (run.status === 'queued' || run.status === 'running') && (
              <button
                className="jp-Button jp-mod-styled jp-mod-reject jp-JobsPanel-cancelRun"
                onClick={() => props.onCancel?.(run)}
                title="Stop this run"
              >
                Cancel
              </button>
            )}
          {run.error && (
            <div className="jp-JobsPanel-runError" role="alert">
              {run.error}
            </div>
          )}
          {run.log_tail.length > 0 && run.status !== 'finished' && (
            <pre className="jp-JobsPanel-pre jp-JobsPanel-runLog">
              {run.log_tail.slice(-LOG_LINES).join('\n')}
            </pre>
          )}
        </li>
      ))}
    </ul>
  );
}

/** How many of a run's last log lines the panel shows. */
const LOG_LINES = 12;

function Naming({ record }: { record: IJobRecord }): JSX.Element {
  const naming = record.naming;
  return (
    <Field label="Name">
      <div className="jp-JobsPanel-naming">
        rule <code>{naming?.rule}</code>
        {naming?.truncated && ' (over 128 characters: first 63 … last 63 kept)'}
      </div>
      <div className="jp-JobsPanel-nameParts">
        {(naming?.parts ?? []).map((part, i) => (
          <span
            key={i}
            className="jp-JobsPanel-namePart"
            data-role={part.role}
            title={part.role}
          >
            {part.text}
          </span>
        ))}
      </div>
    </Field>
  );
}

function Decision({ steps }: { steps: IDecisionStep[] }): JSX.Element {
  return (
    <ol className="jp-JobsPanel-decision">
      {(steps ?? []).map(step => (
        <li key={step.check} data-outcome={step.outcome}>
          <span className="jp-JobsPanel-check">
            {CHECK_LABELS[step.check] ?? step.check}
          </span>
          <span className="jp-JobsPanel-outcome">{step.outcome}</span>
          <div className="jp-JobsPanel-reason">{step.reason}</div>
        </li>
      ))}
    </ol>
  );
}

function TypeTable(props: {
  type: IWBType | null;
  empty: string;
}): JSX.Element {
  const rows = typeRows(props.type);
  if (rows.length === 0) {
    return <span className="jp-JobsPanel-empty">{props.empty}</span>;
  }
  return (
    <table className="jp-JobsPanel-table">
      <thead>
        <tr>
          <th>key</th>
          <th>type</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([key, type]) => (
          <tr key={key}>
            <td>
              <code>{key}</code>
            </td>
            <td>{type}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
