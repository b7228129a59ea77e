/**
 * A stored version's files: the job artifact's (wandb-job.json, requirements.frozen.txt,
 * diff.patch) and its code artifact's (the script, the notebook copy, carried files). Each name
 * is a link that shows the file read-only under the list, fetched from the server's store.
 */
import * as React from 'react';

import { IJobRecord, IStoredFile } from '../tokens';

/** What the viewer holds: nothing, a file on its way, the file, or why it cannot be shown. */
type Shown = { path: string; file?: IStoredFile; error?: string } | null;

export function Files(props: {
  record: IJobRecord;
  /** Fetch one of the version's files (absent for a dry run, which stored nothing). */
  onReadFile?: (path: string) => Promise<IStoredFile>;
}): JSX.Element {
  const { record } = props;
  const [shown, setShown] = React.useState<Shown>(null);
  const open = async (path: string) => {
    setShown({ path });
    try {
      setShown({ path, file: await props.onReadFile!(path) });
    } catch (error) {
      setShown({ path, error: (error as Error).message });
    }
  };
  const link = (path: string) =>
    props.onReadFile ? (
      <button
        className="jp-JobsPanel-fileLink"
        aria-pressed={shown?.path === path}
        onClick={() => void open(path)}
        title={`Show ${path} (read-only)`}
      >
        {path}
      </button>
    ) : (
      <code>{path}</code>
    );
  return (
    <div className="jp-JobsPanel-filesView">
      <ul className="jp-JobsPanel-files">
        {(record.files ?? []).map(path => (
          <li key={`job:${path}`}>{link(path)}</li>
        ))}
        {(record.code_artifact?.files ?? []).map(path => (
          <li key={`code:${path}`}>{link(path)}</li>
        ))}
      </ul>
      {shown && <FileViewer shown={shown} onClose={() => setShown(null)} />}
    </div>
  );
}

/** The file's text read-only, "binary, N bytes" for a binary file, or the server's one line. */
function FileViewer(props: {
  shown: NonNullable<Shown>;
  onClose: () => void;
}): JSX.Element {
  const { path, file, error } = props.shown;
  return (
    <section className="jp-JobsPanel-fileViewer" aria-label={`File ${path}`}>
      <div className="jp-JobsPanel-fileHeader">
        <code>{path}</code>
        <span>
          {file
            ? `${file.job.split(':').pop()} · ${file.size} bytes · read-only`
            : error
              ? ''
              : 'Loading…'}
        </span>
        <button
          className="jp-Button jp-mod-styled jp-mod-reject jp-JobsPanel-fileClose"
          onClick={props.onClose}
          title="Close the file"
        >
          Close
        </button>
      </div>
      {error && (
        <div className="jp-JobsPanel-error" role="alert">
          {error}
        </div>
      )}
      {file &&
        (file.text === null ? (
          <div className="jp-JobsPanel-empty">binary, {file.size} bytes</div>
        ) : (
          <pre className="jp-JobsPanel-pre jp-JobsPanel-fileText">
            {file.text}
          </pre>
        ))}
    </section>
  );
}
