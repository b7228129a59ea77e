/** The two containers every details section uses: a labelled field, and a section that opens. */
import * as React from 'react';

/** A label over its value. */
export function Field(props: {
  label: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-JobsPanel-field">
      <div className="jp-JobsPanel-label">{props.label}</div>
      <div className="jp-JobsPanel-value">{props.children}</div>
    </div>
  );
}

/** A closed section: long lists (files, requirements, diffs) stay out of the way until asked for. */
export function Collapsible(props: {
  title: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <details className="jp-JobsPanel-collapsible">
      <summary>{props.title}</summary>
      {props.children}
    </details>
  );
}
