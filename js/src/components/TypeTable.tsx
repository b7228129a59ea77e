/** A W&B type (the job's input or output types) as a table of keys and their types, and the
 * key table both it and the Inputs table are. */
import * as React from 'react';

import { IWBType } from '../tokens';
import { typeRows } from '../wbtypes';

export function TypeTable(props: {
  type: IWBType | null;
  empty: string;
}): JSX.Element {
  const rows = typeRows(props.type);
  if (rows.length === 0) {
    return <span className="jp-JobsPanel-empty">{props.empty}</span>;
  }
  return (
    <KeyTable heads={['key', 'type']}>
      {rows.map(([key, type]) => (
        <tr key={key}>
          <KeyCell name={key} />
          <td>{type}</td>
        </tr>
      ))}
    </KeyTable>
  );
}

/**
 * A table of keys that scrolls sideways in a narrow panel rather than squeeze a column to one
 * letter a line (the CSS says how); the Inputs table is one too.
 */
export function KeyTable(props: {
  heads: string[];
  className?: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-JobsPanel-tableScroll">
      <table className={`jp-JobsPanel-table ${props.className ?? ''}`}>
        <thead>
          <tr>
            {props.heads.map(head => (
              <th key={head}>{head}</th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** A key on one line: a long one is cut with an ellipsis, and its tooltip holds it whole. */
export function KeyCell(props: { name: string }): JSX.Element {
  return (
    <td className="jp-JobsPanel-key" title={props.name}>
      <code>{props.name}</code>
    </td>
  );
}
