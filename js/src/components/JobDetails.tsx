/**
 * The details of one job version, in the panel and as a notebook's job output: its name,
 * version, aliases, source and warnings above three tabs laid out as W&B's job page lays them
 * out (Runs, Job details, Version details). Render only.
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
import { JobTab } from './JobTab';
import { RunsTab } from './RunsTab';
import { Tabs } from './Tabs';
import { VersionTab } from './VersionTab';

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
  /** Where the details show (the panel or a notebook output): each keeps its own chosen tab. */
  where: 'panel' | 'notebook';
}

const SOURCE_LABELS: Record<string, string> = {
  repo: 'git (repo)',
  artifact: 'code artifact (artifact)',
  image: 'docker image (image)'
};

export function JobDetails(props: IJobDetailsProps): JSX.Element {
  const { record } = props;
  return (
    <section className="jp-JobsPanel-details" aria-label={`Job ${record.name}`}>
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
      {(record.warnings ?? []).length > 0 && (
        <ul className="jp-JobsPanel-warnings" aria-label="Warnings">
          {record.warnings.map((warning, i) => (
            <li key={i} className="jp-JobsPanel-warning">
              {warning}
            </li>
          ))}
        </ul>
      )}
      <Tabs
        label={`${record.name}:${record.version}`}
        storageKey={`jupyter-jobs:details-tab:${props.where}`}
        initial="job"
        // Each tab takes from the details' props what it shows.
        tabs={[
          {
            id: 'runs',
            label: 'Runs',
            content: <RunsTab {...props} />
          },
          {
            id: 'job',
            label: 'Job details',
            content: <JobTab {...props} />
          },
          {
            id: 'version',
            label: 'Version details',
            content: <VersionTab {...props} />
          }
        ]}
      />
    </section>
  );
}
