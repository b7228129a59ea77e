/** How the job got its name: the rule, and the name cut into the parts the rule made it from. */
import * as React from 'react';

import { IJobRecord } from '../tokens';
import { Field } from './Field';

export function Naming({ record }: { record: IJobRecord }): JSX.Element {
  const naming = record.naming;
  return (
    <Field label="Name">
      <div className="jp-JobsPanel-naming">
        rule <code>{naming?.rule}</code>
        {naming?.truncated && ' (over 128 characters: first 63 … last 63 kept)'}
      </div>
      <div className="jp-JobsPanel-nameParts">
        {(naming?.parts ?? []).map((part, i) => (
          <span
            key={i}
            className="jp-JobsPanel-namePart"
            data-role={part.role}
            title={part.role}
          >
            {part.text}
          </span>
        ))}
      </div>
    </Field>
  );
}
