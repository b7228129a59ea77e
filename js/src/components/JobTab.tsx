/** The Job details tab: what the job is (W&B's "Job details"): how it was named, which source
 * won and why, the entrypoint, the inputs with their types and defaults, the outputs, where it
 * ran from, the lines rewritten for it, and the command that launches it. */
import * as React from 'react';

import { IJobRecord } from '../tokens';
import { Decision } from './Decision';
import { Collapsible, Field } from './Field';
import { InputsTable } from './Inputs';
import { Naming } from './Naming';
import { TypeTable } from './TypeTable';

export function JobTab(props: {
  record: IJobRecord;
  onCopy: (text: string) => void;
}): JSX.Element {
  const { record } = props;
  const entrypoint = Array.isArray(record.entrypoint)
    ? record.entrypoint.join(' ')
    : record.entrypoint;
  return (
    <>
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
    </>
  );
}
