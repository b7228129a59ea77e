/**
 * The details' tab strip (W&B's job page has the same three: Runs, Job details, Version
 * details): an accessible tablist (arrow keys, Home/End) in JupyterLab's theme colours. The
 * chosen tab is kept in the browser's storage under `storageKey`, so it stays chosen when
 * another notebook's job is shown and after a reload.
 */
import * as React from 'react';

interface ITab {
  id: string;
  label: string;
  content: React.ReactNode;
}

export function Tabs(props: {
  label: string;
  storageKey: string;
  tabs: ITab[];
  initial: string;
}): JSX.Element {
  const ids = props.tabs.map(tab => tab.id);
  const [selected, setSelected] = React.useState(() => {
    const stored = readStored(props.storageKey);
    return stored && ids.includes(stored) ? stored : props.initial;
  });
  const base = React.useId();
  const strip = React.useRef<HTMLDivElement>(null);
  const select = (id: string, focus = false) => {
    setSelected(id);
    writeStored(props.storageKey, id);
    if (focus) {
      strip.current?.querySelector<HTMLElement>(`[data-tab="${id}"]`)?.focus();
    }
  };
  const onKeyDown = (event: React.KeyboardEvent) => {
    const at = ids.indexOf(selected);
    const next: Record<string, number> = {
      ArrowRight: (at + 1) % ids.length,
      ArrowLeft: (at - 1 + ids.length) % ids.length,
      Home: 0,
      End: ids.length - 1
    };
    if (event.key in next) {
      event.preventDefault();
      select(ids[next[event.key]], true);
    }
  };
  return (
    <div className="jp-JobsPanel-tabs">
      <div
        className="jp-JobsPanel-tabStrip"
        role="tablist"
        aria-label={props.label}
        ref={strip}
        onKeyDown={onKeyDown}
      >
        {props.tabs.map(tab => (
          <button
            key={tab.id}
            id={`${base}-tab-${tab.id}`}
            data-tab={tab.id}
            className="jp-JobsPanel-tab"
            role="tab"
            aria-selected={tab.id === selected}
            aria-controls={`${base}-panel-${tab.id}`}
            tabIndex={tab.id === selected ? 0 : -1}
            onClick={() => select(tab.id)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {props.tabs.map(tab => (
        // Every panel stays mounted (hidden when not chosen): what was typed in one survives a
        // look at another.
        <div
          key={tab.id}
          id={`${base}-panel-${tab.id}`}
          className="jp-JobsPanel-tabPanel"
          role="tabpanel"
          aria-labelledby={`${base}-tab-${tab.id}`}
          data-tab={tab.id}
          hidden={tab.id !== selected}
        >
          {tab.content}
        </div>
      ))}
    </div>
  );
}

/** The stored choice; none where storage is unavailable (a sandboxed frame, privacy settings). */
function readStored(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeStored(key: string, id: string): void {
  try {
    window.localStorage.setItem(key, id);
  } catch {
    // Not kept: the tab is still chosen for as long as the details are shown.
  }
}
