/** The job's runs on this machine, newest first, as they go. */
import * as React from 'react';

import { IJobRun } from '../tokens';

/**
 * When each run started, which version ran, where it is (queued, running, finished, failed,
 * cancelled) and with what config; a queued or running run can be cancelled and shows its
 * log's last lines as they come, a failed one its error and last lines.
 */
export function Runs(props: {
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
