/** The panel's icon: a briefcase (a job) with a play mark (Launch), themed by `jp-icon3`. */
import { LabIcon } from '@jupyterlab/ui-components';

const jobsSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" fill-rule="evenodd"
    d="M10 3h4a2 2 0 0 1 2 2v1h4a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h4V5a2 2 0 0 1 2-2zm0 3h4V5h-4zm-0.5 4.5v7l6-3.5z"/>
</svg>`;

export const jobsIcon = new LabIcon({
  name: 'jupyter-jobs:jobs',
  svgstr: jobsSvg
});
