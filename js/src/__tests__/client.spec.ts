import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import { JobsClient, JobsError } from '../client';
import { IStoredFile } from '../tokens';

/** A client whose HTTP layer answers `reply` and keeps the URLs asked for. */
function clientAnswering(reply: Response): {
  client: JobsClient;
  asked: string[];
} {
  const asked: string[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://lab/',
    fetch: async (request: RequestInfo) => {
      asked.push((request as Request).url);
      return reply;
    }
  });
  return { client: new JobsClient(settings), asked };
}

describe('JobsClient.readFile', () => {
  it('asks for a file of a version under its path, each part escaped', async () => {
    const file: IStoredFile = {
      job: 'job-a:v1',
      path: 'notes/a b#.md',
      size: 2,
      text: 'a\n'
    };
    const { client, asked } = clientAnswering(
      new Response(JSON.stringify(file), { status: 200 })
    );

    expect(await client.readFile('job-a', 'notes/a b#.md', 'v1')).toEqual(file);
    // (JupyterLab adds a cache-busting number to GET queries.)
    const url = new URL(asked[0]);
    expect(url.pathname).toBe(
      '/jupyter-jobs/jobs/job-a/files/notes/a%20b%23.md'
    );
    expect(url.searchParams.get('ref')).toBe('v1');
  });

  it("fails with the server's one line when the file is refused", async () => {
    const message = "Refused '../x': '..' may not leave the version's folder.";
    const { client } = clientAnswering(
      new Response(JSON.stringify({ message }), { status: 403 })
    );

    await expect(client.readFile('job-a', '../x')).rejects.toThrow(
      new JobsError(message)
    );
  });
});
