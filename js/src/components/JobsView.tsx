/**
 * The whole panel: the create controls, the readable error with its way forward, the details
 * of the job on display and the list of stored jobs. Render only: actions are callbacks.
 */
import * as React from 'react';

import { IPanelState } from '../model';
import { IJobRecord, IJobRun, IRunOverrides, IStoredFile } from '../tokens';
import { JobDetails } from './JobDetails';
import { JobList } from './JobList';

interface IJobsViewProps {
  state: IPanelState;
  notebook: string | null;
  onCreate: () => void;
  onCreateFromFile: (path: string) => void;
  onAllowSecrets: (allow: boolean) => void;
  onStripOutputs: (strip: boolean) => void;
  onInclude: (patterns: string) => void;
  onExclude: (patterns: string) => void;
  onOpen: (name: string, ref?: string) => void;
  onRun: (record: IJobRecord, overrides: IRunOverrides) => void;
  /** Stop waiting for a busy kernel. */
  onCancel: () => void;
  onCancelRun: (run: IJobRun) => void;
  onWandb: (record: IJobRecord, queue?: string) => void;
  onRefresh: () => void;
  onSearch: (search: string) => void;
  onCompare: (before: string) => void;
  /** Delete the job, or with `ref` one version (the panel asks first). */
  onDelete: (name: string, ref?: string) => void;
  onCopy: (text: string) => void;
  onReadFile: (record: IJobRecord, path: string) => Promise<IStoredFile>;
}

export function JobsView(props: IJobsViewProps): JSX.Element {
  const { state } = props;
  const busy = state.busy !== null;
  return (
    <div className="jp-JobsPanel-content">
      <header className="jp-JobsPanel-header">
        <h2>W&amp;B Jobs</h2>
        <div className="jp-JobsPanel-notebook">
          {props.notebook ? (
            <>
              Notebook: <code>{props.notebook}</code>
            </>
          ) : (
            'No notebook open'
          )}
        </div>
      </header>
      <div className="jp-JobsPanel-actions">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept jp-JobsPanel-create"
          onClick={props.onCreate}
          disabled={busy || !props.notebook}
          title="Save the notebook and create a W&B job from its active run"
        >
          Create job
        </button>
        <Option
          label="Allow secrets"
          title="Create the job even though secrets were found in the notebook"
          checked={state.allowSecrets}
          onChange={props.onAllowSecrets}
        />
        <Option
          label="Strip outputs"
          title="Store and upload the notebook without its cells' outputs (what they printed and plotted)"
          checked={state.stripOutputs}
          onChange={props.onStripOutputs}
        />
        <Patterns
          label="Include"
          title="Also carry these files from the notebook's folder (gitignore patterns, e.g. *.yaml data/)"
          value={state.include}
          onChange={props.onInclude}
        />
        <Patterns
          label="Exclude"
          title="Never carry these files (gitignore patterns, e.g. *.csv secrets/)"
          value={state.exclude}
          onChange={props.onExclude}
        />
      </div>
      {busy && (
        <div className="jp-JobsPanel-busy" role="status">
          {state.busy}
          {state.cancellable && (
            <button
              className="jp-Button jp-mod-styled jp-mod-reject jp-JobsPanel-cancel"
              onClick={props.onCancel}
            >
              Cancel
            </button>
          )}
        </div>
      )}
      {state.error && (
        <div className="jp-JobsPanel-error" role="alert">
          <div className="jp-JobsPanel-errorMessage">{state.error.message}</div>
          {state.error.fallbackPath && (
            <button
              className="jp-Button jp-mod-styled jp-mod-reject jp-JobsPanel-fallback"
              onClick={() => props.onCreateFromFile(state.error!.fallbackPath!)}
              disabled={busy}
              title="Create the job from the saved notebook on the server, without a kernel or a W&B run"
            >
              Create from saved file (no run)
            </button>
          )}
        </div>
      )}
      {state.record && (
        <JobDetails
          // One form per job version: what was typed for one is never run with another.
          key={`${state.record.name}:${state.record.version}`}
          record={state.record}
          where="panel"
          runs={state.runs}
          comparison={state.comparison}
          created={state.origin === 'created'}
          onCopy={props.onCopy}
          onRun={overrides => props.onRun(state.record!, overrides)}
          onCancelRun={props.onCancelRun}
          onWandb={queue => props.onWandb(state.record!, queue)}
          onDelete={ref => props.onDelete(state.record!.name, ref)}
          onReadFile={
            state.record.dry_run
              ? undefined
              : path => props.onReadFile(state.record!, path)
          }
          versions={state.versions}
          onVersion={version => props.onOpen(state.record!.name, version)}
          onCompare={props.onCompare}
          wandb={state.wandb}
          busy={busy}
        />
      )}
      <JobList
        jobs={state.jobs}
        total={state.total}
        error={state.listError}
        selected={state.record?.name ?? null}
        onOpen={props.onOpen}
        onRefresh={props.onRefresh}
        search={state.search}
        onSearch={props.onSearch}
      />
    </div>
  );
}

/** A create option taking patterns: a text field with its label and what it does as the tooltip. */
function Patterns(props: {
  label: string;
  title: string;
  value: string;
  onChange: (value: string) => void;
}): JSX.Element {
  return (
    <label
      className="jp-JobsPanel-option jp-JobsPanel-patterns"
      title={props.title}
    >
      {props.label}
      <input
        type="text"
        className="jp-mod-styled"
        placeholder="*.yaml data/"
        value={props.value}
        onChange={event => props.onChange(event.currentTarget.value)}
      />
    </label>
  );
}

/** A create option: a checkbox with its label and what it does as the tooltip. */
function Option(props: {
  label: string;
  title: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}): JSX.Element {
  return (
    <label className="jp-JobsPanel-option" title={props.title}>
      <input
        type="checkbox"
        checked={props.checked}
        onChange={event => props.onChange(event.currentTarget.checked)}
      />
      {props.label}
    </label>
  );
}
