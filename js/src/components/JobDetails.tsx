/**
 * The details of one job version: the same facts as the notebook widget (name and the rule
 * that made it, the source decision, entrypoint, inputs, outputs, runtime, requirements,
 * warnings and the launch command). Render only.
 */
import * as React from 'react';

import {
  IComparison,
  IJobRecord,
  IJobRun,
  IJobSummary,
  IRunOverrides,
  IStoredFile
} from '../tokens';
import { typeRows } from '../wbtypes';
import { Changes } from './Changes';
import { Decision } from './Decision';
import { Collapsible, Field } from './Field';
import { Files } from './Files';
import { InputsRunForm, InputsTable } from './Inputs';
import { Naming } from './Naming';
import { RunForm } from './RunForm';
import { Runs } from './Runs';
import { TypeTable } from './TypeTable';
import { VersionPicker } from './VersionPicker';
import { WandbForm } from './WandbForm';

interface IJobDetailsProps {
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
  /** Fetch one of the version's files to show it (absent for a dry run). */
  onReadFile?: (path: string) => Promise<IStoredFile>;
  /** Delete the whole job, or with `ref` this version (absent in a notebook output). */
  onDelete?: (ref?: string) => void;
  /** What W&B got from the last Publish or Launch, in words. */
  wandb: string | null;
  /** Whether an action is under way (the Run button waits for it). */
  busy: boolean;
}

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
      <Field label="Files">
        <Files record={record} onReadFile={props.onReadFile} />
        {record.code_artifact && (
          <div className="jp-JobsPanel-digest">
            code artifact <code>{record.code_artifact.name}</code> digest{' '}
            <code>{record.code_artifact.digest}</code>
          </div>
        )}
      </Field>
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
