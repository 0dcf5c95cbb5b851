// The REST API of nbflow's Jupyter server extension (nbflow/lab/, under /nbflow/api):
// the documents it answers and one function per request. Requests go through
// Jupyter's own connection settings (token, XSRF cookie): no second login.

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** A run of a kernel, as the panel lists it. */
export interface RunSummary {
  number: number;
  run_id: string;
  command: string;
  roots: string[];
  state: 'running' | 'succeeded' | 'failed' | 'cancelled' | string;
  started: number | string | null;
  finished: number | string | null;
  counts: Record<string, number>;
  total: number;
  percent: number;
  user: string;
}

export interface KernelRuns {
  kernel_id: string;
  path: string | null;
  name: string;
  alive: boolean;
  runs: RunSummary[];
}

export interface RunsDocument {
  kernels: KernelRuns[];
  server: { url: string | null; connected: boolean };
}

export interface OutputFile {
  path: string;
  lab_path: string | null;
}

/** One task of a run, with what its detail panel shows. */
export interface TaskDetail {
  label: string;
  family: string;
  state: string;
  deps: string[];
  params: Record<string, string>;
  status_message: string | null;
  progress: number | null;
  tracking_url: string | null;
  error: string | null;
  traceback: string | null;
  log: string | string[] | null;
  outputs: OutputFile[];
  notebook: OutputFile | null;
  /** False for a task of a big run whose details the kernel did not keep. */
  detailed?: boolean;
}

export interface RunDocument extends RunSummary {
  tasks: Record<string, TaskDetail>;
}

/** A laid-out graph (the same shape as the nbflow server's drawings). */
export interface Drawing {
  svg: string;
  engine: string;
  node_of: Record<string, string>;
  states: Record<string, string>;
  shares: Record<string, Record<string, number>>;
  truncated: boolean;
}

/** The nbflow server's GET /api/v1/scheduler document. */
export interface SchedulerState {
  paused: boolean;
  tasks: number;
  counts: Record<string, number>;
  workers: number;
  version: string;
}

/** A run of a graph in the nbflow server's history. */
export interface ServerGraphRun {
  id: number;
  run_id: string;
  roots: string[];
  total: number;
  started: number | null;
  ended: number | null;
  state: string | null;
  counts: Record<string, number>;
}

/** An answer of the Jupyter server extension that is not 2xx. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

const settings = (): ServerConnection.ISettings =>
  ServerConnection.makeSettings();

/** Send a request to /nbflow/api/<path>; return its JSON document. */
export async function requestApi<T>(
  path: string,
  init: RequestInit = {}
): Promise<T> {
  const connection = settings();
  const url = URLExt.join(connection.baseUrl, 'nbflow', 'api', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, connection);
  } catch (error) {
    throw new ApiError(0, `the Jupyter server did not answer: ${error}`);
  }
  const text = await response.text();
  let document: any = null;
  try {
    document = text ? JSON.parse(text) : null;
  } catch {
    document = null;
  }
  if (!response.ok) {
    const message =
      (document && (document.message || document.error)) ||
      `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, String(message));
  }
  return document as T;
}

const runPath = (kernelId: string, number: number): string =>
  `runs/${encodeURIComponent(kernelId)}/${number}`;

export const fetchRuns = (): Promise<RunsDocument> => requestApi('runs');

export const fetchRun = (kernelId: string, number: number): Promise<RunDocument> =>
  requestApi(runPath(kernelId, number));

export function fetchDrawing(
  kernelId: string,
  number: number,
  expand: Iterable<string>
): Promise<Drawing> {
  const families = [...expand].join(',');
  const query = families ? `?expand=${encodeURIComponent(families)}` : '';
  return requestApi(`${runPath(kernelId, number)}/drawing${query}`);
}

/** Save the nbflow server's URL and token in the Jupyter server extension. */
export const saveServer = (serverUrl: string, token: string | null): Promise<unknown> =>
  requestApi('settings', {
    method: 'PUT',
    body: JSON.stringify(
      token === null ? { server_url: serverUrl } : { server_url: serverUrl, token }
    )
  });

/** GET a path of the configured nbflow server's API (api/v1/...), proxied. */
export const fetchServer = <T>(path: string): Promise<T> =>
  requestApi(`server/api/v1/${path}`);
