/** The Version details tab: this version among the others (W&B's "Version details"): the
 * version picker with aliases, what changed from another version, the files it holds (each
 * readable), what it carries and why, its requirements, and deleting it. */
import * as React from 'react';

import { IComparison, IJobRecord, IJobSummary, IStoredFile } from '../tokens';
import { Changes } from './Changes';
import { Collapsible, Field } from './Field';
import { Files } from './Files';
import { VersionPicker } from './VersionPicker';

export function VersionTab(props: {
  record: IJobRecord;
  comparison: IComparison | null;
  versions?: IJobSummary[];
  onVersion?: (version: string) => void;
  onCompare?: (before: string) => void;
  onReadFile?: (path: string) => Promise<IStoredFile>;
  onDelete?: (ref?: string) => void;
  busy: boolean;
}): JSX.Element {
  const { record } = props;
  return (
    <>
      {props.versions && props.versions.length > 0 && (
        <VersionPicker
          record={record}
          versions={props.versions}
          busy={props.busy}
          onVersion={props.onVersion}
          onCompare={props.onCompare}
        />
      )}
      {props.comparison && <Changes comparison={props.comparison} />}
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
      <Field label="Requirements">
        <div>
          <code>requirements.frozen.txt</code> (under Files) pins the
          environment the job was made in.
        </div>
        {(record.requirements ?? []).length > 0 && (
          <Collapsible
            title={`Installed by the notebook (${record.requirements.length})`}
          >
            <pre className="jp-JobsPanel-pre">
              {record.requirements.join('\n')}
            </pre>
          </Collapsible>
        )}
      </Field>
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
    </>
  );
}
