/** A W&B type (the job's input or output types) as a table of keys and their types. */
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
    <div className="jp-JobsPanel-tableScroll">
      <table className="jp-JobsPanel-table">
        <thead>
          <tr>
            <th>key</th>
            <th>type</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([key, type]) => (
            <tr key={key}>
              <td className="jp-JobsPanel-key" title={key}>
                <code>{key}</code>
              </td>
              <td>{type}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
