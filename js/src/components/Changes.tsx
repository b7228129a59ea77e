/** What changed between two versions, part by part, each a diff with `+`/`-` lines marked. */
import * as React from 'react';

import { IComparison } from '../tokens';
import { Collapsible, Field } from './Field';

export function Changes(props: { comparison: IComparison }): JSX.Element {
  const { before, changes } = props.comparison;
  const version = before.split(':').pop();
  if (changes.length === 0) {
    return <Field label={`Changes from ${version}`}>None</Field>;
  }
  return (
    <Collapsible
      title={`Changes from ${version}: ${changes.map(c => c.part).join(', ')}`}
    >
      {changes.map(change => (
        <pre
          key={change.part}
          className="jp-JobsPanel-pre jp-JobsPanel-diff"
          data-part={change.part}
        >
          {change.diff.split('\n').map((line, i) => (
            <div key={i} data-mark={diffMark(line)}>
              {line}
            </div>
          ))}
        </pre>
      ))}
    </Collapsible>
  );
}

/** How a unified-diff line reads: added, removed, or context (file headers are context). */
function diffMark(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---')) {
    return 'header';
  }
  return line.startsWith('+')
    ? 'added'
    : line.startsWith('-')
      ? 'removed'
      : 'context';
}
