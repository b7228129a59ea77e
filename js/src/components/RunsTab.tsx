/** The Runs tab: running this version on the server (a form typed by its inputs) and the job's
 * runs as they go, with status, log tail and Cancel; W&B's Publish and Launch; and the command
 * that runs it from a terminal. */
import * as React from 'react';

import { IJobRecord, IJobRun, IRunOverrides } from '../tokens';
import { typeRows } from '../wbtypes';
import { Field } from './Field';
import { InputsRunForm } from './Inputs';
import { RunForm } from './RunForm';
import { Runs } from './Runs';
import { WandbForm } from './WandbForm';

export function RunsTab(props: {
  record: IJobRecord;
  runs: IJobRun[] | null;
  onRun?: (overrides: IRunOverrides) => void;
  onCancelRun?: (run: IJobRun) => void;
  onWandb?: (queue?: string) => void;
  wandb: string | null;
  busy: boolean;
}): JSX.Element {
  const { record } = props;
  if (record.dry_run) {
    return (
      <span className="jp-JobsPanel-empty">
        A dry run stores nothing, so it cannot be run.
      </span>
    );
  }
  return (
    <>
      {props.onRun && (
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
      {props.onWandb && (
        <Field label="W&B">
          <WandbForm busy={props.busy} onWandb={props.onWandb} />
          {props.wandb && (
            <pre className="jp-JobsPanel-pre jp-JobsPanel-wandb">
              {props.wandb}
            </pre>
          )}
        </Field>
      )}
      {!props.onRun && (
        <Field label="Local runs">
          <Runs runs={props.runs} />
        </Field>
      )}
      <Field label="Run it from a terminal">
        <pre className="jp-JobsPanel-pre jp-JobsPanel-runCommand">
          {record.run_command}
        </pre>
      </Field>
    </>
  );
}
