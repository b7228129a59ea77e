/** The version picker: open any version of the job (aliases shown), or compare the shown
 * version with any other. Render only. */
import * as React from 'react';

import { IJobRecord, IJobSummary } from '../tokens';

/** Open any version (aliases shown), or compare the shown one with any other. */
export function VersionPicker(props: {
  record: IJobRecord;
  versions: IJobSummary[];
  busy: boolean;
  onVersion?: (version: string) => void;
  onCompare?: (before: string) => void;
}): JSX.Element {
  const label = (row: IJobSummary) =>
    row.aliases.length
      ? `${row.version} (${row.aliases.join(', ')})`
      : row.version;
  return (
    <div className="jp-JobsPanel-runForm jp-JobsPanel-versions">
      <label>
        Version{' '}
        <select
          aria-label="Version"
          value={props.record.version}
          disabled={props.busy}
          onChange={event => props.onVersion?.(event.currentTarget.value)}
        >
          {props.versions.map(row => (
            <option key={row.version} value={row.version}>
              {label(row)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Compare with{' '}
        <select
          aria-label="Compare with"
          value=""
          disabled={props.busy}
          onChange={event => props.onCompare?.(event.currentTarget.value)}
        >
          <option value="">choose a version</option>
          {props.versions
            .filter(row => row.version !== props.record.version)
            .map(row => (
              <option key={row.version} value={row.version}>
                {label(row)}
              </option>
            ))}
        </select>
      </label>
    </div>
  );
}
