/** W&B from the panel: publish the version, or put it on a W&B Launch queue. */
import * as React from 'react';

/** Publish the version to W&B, or put it on a W&B Launch queue (publishing it if needed). */
export function WandbForm(props: {
  busy: boolean;
  onWandb: (queue?: string) => void;
}): JSX.Element {
  const [queue, setQueue] = React.useState('');
  return (
    <div className="jp-JobsPanel-runForm">
      <button
        className="jp-Button jp-mod-styled jp-mod-reject jp-JobsPanel-publishButton"
        onClick={() => props.onWandb()}
        disabled={props.busy}
        title="Put this version and its code into W&B, as jupyter jobs publish does"
      >
        Publish
      </button>
      <input
        className="jp-JobsPanel-runConfig jp-JobsPanel-queue"
        aria-label="Launch queue"
        placeholder="W&B Launch queue"
        value={queue}
        onChange={event => setQueue(event.currentTarget.value)}
      />
      <button
        className="jp-Button jp-mod-styled jp-mod-accept jp-JobsPanel-launchButton"
        onClick={() => props.onWandb(queue.trim())}
        disabled={props.busy || !queue.trim()}
        title="Put this version on the W&B Launch queue, as jupyter jobs launch does"
      >
        Launch
      </button>
    </div>
  );
}
