/**
 * Running a version on the server: the Run button (one for both run forms), and the form for a
 * job without declared inputs, whose overrides are typed as `KEY=VALUE` words.
 */
import * as React from 'react';

import { IRunOverrides } from '../tokens';

/** Runs the version with the overrides the form holds; waits while an action is under way. */
export function RunButton(props: {
  busy: boolean;
  onClick: () => void;
}): JSX.Element {
  return (
    <button
      className="jp-Button jp-mod-styled jp-mod-accept jp-JobsPanel-runButton"
      onClick={props.onClick}
      disabled={props.busy}
      title="Run this version on the Jupyter server with offline W&B, as jupyter jobs run does"
    >
      Run
    </button>
  );
}

/** Config overrides as `KEY=VALUE` words, and the button that runs the job with them. */
export function RunForm(props: {
  keys: string[];
  busy: boolean;
  onRun: (overrides: IRunOverrides) => void;
}): JSX.Element {
  const [config, setConfig] = React.useState('');
  return (
    <div className="jp-JobsPanel-runForm">
      <input
        className="jp-JobsPanel-runConfig"
        aria-label="Config overrides"
        placeholder={
          props.keys.length
            ? props.keys.map(key => `${key}=…`).join(' ')
            : 'no config keys'
        }
        value={config}
        onChange={event => setConfig(event.currentTarget.value)}
      />
      <RunButton
        busy={props.busy}
        onClick={() =>
          props.onRun({
            config: config.split(/\s+/).filter(Boolean),
            files: []
          })
        }
      />
    </div>
  );
}
