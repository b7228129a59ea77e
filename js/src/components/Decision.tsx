/** Why the job has its source: each check W&B's order tries (git, code artifact, image) and how it went. */
import * as React from 'react';

import { IDecisionStep } from '../tokens';

const CHECK_LABELS: Record<IDecisionStep['check'], string> = {
  git: 'Git repository with a remote',
  artifact: 'Code artifact (log_code)',
  image: 'Docker image (WANDB_DOCKER)'
};

export function Decision({ steps }: { steps: IDecisionStep[] }): JSX.Element {
  return (
    <ol className="jp-JobsPanel-decision">
      {(steps ?? []).map(step => (
        <li key={step.check} data-outcome={step.outcome}>
          <span className="jp-JobsPanel-check">
            {CHECK_LABELS[step.check] ?? step.check}
          </span>
          <span className="jp-JobsPanel-outcome">{step.outcome}</span>
          <div className="jp-JobsPanel-reason">{step.reason}</div>
        </li>
      ))}
    </ol>
  );
}
