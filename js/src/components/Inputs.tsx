/**
 * A job's inputs as the record lists them (`record.inputs`, built by the Python core): the
 * table of keys with their defaults and the schema's rules, and the Run form generated from
 * them. The server checks the values against the schema; its one-line error is shown as any.
 */
import * as React from 'react';

import { IInputRow, IJobRecord, IRunOverrides } from '../tokens';
import { RunButton } from './RunForm';
import { KeyCell, KeyTable } from './TypeTable';

/** Keys with where they come from (wandb.config or a config file), type, default and rule. */
export function InputsTable(props: { rows: IInputRow[] }): JSX.Element {
  if (props.rows.length === 0) {
    return <span className="jp-JobsPanel-empty">No config keys</span>;
  }
  return (
    <KeyTable
      heads={['from', 'key', 'type', 'default', 'allowed']}
      className="jp-JobsPanel-inputs"
    >
      {props.rows.map(row => (
        <tr key={`${row.source}:${row.key}`}>
          <td>{row.source ?? 'wandb.config'}</td>
          <KeyCell name={row.key} />
          <td>{row.type}</td>
          <td>
            <code>{'default' in row ? JSON.stringify(row.default) : ''}</code>
          </td>
          <td>{row.allowed}</td>
        </tr>
      ))}
    </KeyTable>
  );
}

/** One field per input, typed by its rule (or W&B type): a choice for an enum, a number box with
 * its range, text otherwise; left empty, the default is kept. */
export function InputsRunForm(props: {
  record: IJobRecord;
  rows: IInputRow[];
  busy: boolean;
  onRun: (overrides: IRunOverrides) => void;
}): JSX.Element {
  const [values, setValues] = React.useState<Record<string, string>>({});
  const id = (row: IInputRow) => `${row.source ?? ''}:${row.key}`;
  return (
    <div className="jp-JobsPanel-inputsForm">
      {props.rows.map(row => (
        <label key={id(row)} className="jp-JobsPanel-inputField">
          <span>{row.source ? `${row.source}: ${row.key}` : row.key}</span>
          <InputField
            row={row}
            value={values[id(row)] ?? ''}
            onChange={value => setValues({ ...values, [id(row)]: value })}
          />
        </label>
      ))}
      <RunButton
        busy={props.busy}
        onClick={() => props.onRun(overrides(props.record, props.rows, values))}
      />
    </div>
  );
}

function InputField(props: {
  row: IInputRow;
  value: string;
  onChange: (value: string) => void;
}): JSX.Element {
  const { row } = props;
  const rule = row.rule ?? {};
  const label = row.source ? `${row.source}: ${row.key}` : row.key;
  const shown = 'default' in row ? JSON.stringify(row.default) : '';
  const choices =
    rule.enum ?? (row.type === 'boolean' ? ['true', 'false'] : undefined);
  if (choices) {
    return (
      <select
        aria-label={label}
        value={props.value}
        onChange={event => props.onChange(event.currentTarget.value)}
      >
        <option value="">{`default ${shown}`}</option>
        {choices.map(choice => (
          <option key={String(choice)} value={String(choice)}>
            {String(choice)}
          </option>
        ))}
      </select>
    );
  }
  const numeric = ['number', 'integer'].includes(rule.type ?? row.type);
  return (
    <input
      aria-label={label}
      type={numeric ? 'number' : 'text'}
      min={rule.minimum ?? rule.exclusiveMinimum}
      max={rule.maximum ?? rule.exclusiveMaximum}
      step={rule.type === 'integer' ? 1 : 'any'}
      placeholder={shown}
      title={row.allowed}
      value={props.value}
      onChange={event => props.onChange(event.currentTarget.value)}
    />
  );
}

/** The filled fields as the server's override words. A nested wandb.config key overrides its
 * top-level key (as Launch's run_config does), so the rest of that key's default is kept. */
function overrides(
  record: IJobRecord,
  rows: IInputRow[],
  values: Record<string, string>
): IRunOverrides {
  const files: string[] = [];
  const nested: Record<string, Record<string, unknown>> = {};
  const config: string[] = [];
  for (const row of rows) {
    const text = values[`${row.source ?? ''}:${row.key}`];
    if (!text) {
      continue;
    }
    const value =
      row.type === 'string' && !row.rule?.enum ? JSON.stringify(text) : text;
    const [top, ...rest] = row.key.split('.');
    if (row.source) {
      files.push(`${row.source}:${row.key}=${value}`);
    } else if (rest.length === 0) {
      config.push(`${row.key}=${value}`);
    } else {
      const base = (record.config ?? {})[top];
      nested[top] ??= JSON.parse(JSON.stringify(base ?? {}));
      setAt(nested[top], rest, parse(value));
    }
  }
  for (const [top, tree] of Object.entries(nested)) {
    config.push(`${top}=${JSON.stringify(tree)}`);
  }
  return { config, files };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function setAt(
  tree: Record<string, unknown>,
  path: string[],
  value: unknown
): void {
  const [head, ...rest] = path;
  if (rest.length === 0) {
    tree[head] = value;
    return;
  }
  if (typeof tree[head] !== 'object' || tree[head] === null) {
    tree[head] = {};
  }
  setAt(tree[head] as Record<string, unknown>, rest, value);
}
