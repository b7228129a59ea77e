/** The jobs already in the store, newest first; a click opens one. Render only. */
import * as React from 'react';

import { IJobSummary } from '../tokens';

interface IJobListProps {
  jobs: IJobSummary[];
  total: number;
  error: string | null;
  selected: string | null;
  onOpen: (name: string) => void;
  onRefresh: () => void;
  search: string;
  onSearch: (search: string) => void;
}

export function JobList(props: IJobListProps): JSX.Element {
  return (
    <section className="jp-JobsPanel-list" aria-label="Jobs in the store">
      <div className="jp-JobsPanel-listHeader">
        <h3>Jobs in the store ({props.total})</h3>
        <button
          className="jp-Button jp-mod-styled jp-mod-reject jp-JobsPanel-refresh"
          onClick={props.onRefresh}
          title="Reload the list of jobs"
        >
          Refresh
        </button>
      </div>
      <input
        className="jp-JobsPanel-search"
        type="search"
        aria-label="Search jobs"
        placeholder="Search job names"
        value={props.search}
        onChange={event => props.onSearch(event.currentTarget.value)}
      />
      {props.error && <div className="jp-JobsPanel-error">{props.error}</div>}
      {!props.error && props.jobs.length === 0 && (
        <div className="jp-JobsPanel-empty">
          {props.search
            ? `No job name holds "${props.search}".`
            : 'No jobs yet: create one from a notebook.'}
        </div>
      )}
      <ul className="jp-JobsPanel-jobs">
        {props.jobs.map(job => (
          <li key={job.name}>
            <button
              className="jp-JobsPanel-job"
              aria-current={job.name === props.selected}
              onClick={() => props.onOpen(job.name)}
              title={`Show ${job.name}`}
            >
              <span className="jp-JobsPanel-jobTitle">{job.name}</span>
              <span className="jp-JobsPanel-jobMeta">
                <span className="jp-JobsPanel-version">{job.version}</span>{' '}
                {job.versions} version{job.versions === 1 ? '' : 's'} ·{' '}
                {job.source_type} · {job.created_at}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
