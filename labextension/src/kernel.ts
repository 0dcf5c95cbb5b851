// Actions run in the kernel that owns a run: "Run this task", "Run from here",
// "Why would it run?" (nbflow.kernel.lab.act) and "%nbflow run ... --background".
// The kernel is found by id among Lab's running kernels; a connection is made to it
// (the kernel itself is never started, restarted or shut down here).

import { JupyterFrontEnd } from '@jupyterlab/application';
import { Kernel, KernelMessage } from '@jupyterlab/services';

/** The answer of nbflow.kernel.lab.act. */
export interface ActAnswer {
  ok: boolean;
  message: string;
  run: number | null;
  why: string | null;
}

export type Action = 'run' | 'run_from_here' | 'why';

/** What a cell's execution gave back: its JSON result, text, or error. */
interface Executed {
  json: unknown;
  text: string;
  error: string | null;
}

const connections = new Map<string, Kernel.IKernelConnection>();
const busy = new Map<string, boolean>();

/** A connection to the running kernel `kernelId`, or null if Lab runs no such kernel. */
export async function connectKernel(
  app: JupyterFrontEnd,
  kernelId: string
): Promise<Kernel.IKernelConnection | null> {
  const kernels = app.serviceManager.kernels;
  await kernels.refreshRunning();
  const model = [...kernels.running()].find(k => k.id === kernelId);
  if (!model) {
    return null;
  }
  // the server's view: a fresh connection learns of a busy kernel only when it is idle
  busy.set(kernelId, model.execution_state === 'busy');
  const kept = connections.get(kernelId);
  if (kept && !kept.isDisposed && kept.status !== 'dead') {
    return kept;
  }
  const connection = kernels.connectTo({ model });
  connections.set(kernelId, connection);
  return connection;
}

/** Whether the kernel is busy now (a request would wait its turn). */
export const isBusy = (kernel: Kernel.IKernelConnection): boolean =>
  kernel.status === 'busy' || busy.get(kernel.id) === true;

/** Execute `code` in `kernel` (not stored in its history); collect what it answers. */
export async function execute(
  kernel: Kernel.IKernelConnection,
  code: string,
  onStarted: () => void = () => undefined
): Promise<Executed> {
  const executed: Executed = { json: null, text: '', error: null };
  let stderr = '';
  const future = kernel.requestExecute({
    code,
    silent: false,
    store_history: false
  });
  let started = false;
  future.onIOPub = (message: KernelMessage.IIOPubMessage) => {
    if (!started) {
      started = true; // the kernel took the request (it says busy first)
      onStarted();
    }
    const type = message.header.msg_type;
    if (type === 'execute_result' || type === 'display_data') {
      const data = (message.content as KernelMessage.IExecuteResultMsg['content'])
        .data;
      if (data['application/json'] !== undefined) {
        executed.json = data['application/json'];
      } else if (typeof data['text/plain'] === 'string') {
        executed.text += data['text/plain'];
      }
    } else if (type === 'stream') {
      const content = message.content as KernelMessage.IStreamMsg['content'];
      if (content.name === 'stderr') {
        stderr += content.text;
      } else {
        executed.text += content.text;
      }
    } else if (type === 'error') {
      const content = message.content as KernelMessage.IErrorMsg['content'];
      executed.error = `${content.ename}: ${content.evalue}`;
    }
  };
  const reply = await future.done;
  if (reply.content.status !== 'ok' && !executed.error) {
    // IPython prints a UsageError (a wrong magic line) instead of raising it
    executed.error = stderr.trim() || `the kernel answered ${reply.content.status}`;
  }
  return executed;
}

/** Python source of a string literal holding `text` (JSON's escapes are Python's). */
const pythonString = (text: string): string => JSON.stringify(text);

/** Ask the kernel of a run to act on one of its tasks. */
export async function act(
  kernel: Kernel.IKernelConnection,
  action: Action,
  run: number,
  taskId: string,
  onStarted: () => void = () => undefined
): Promise<ActAnswer> {
  const request = JSON.stringify({ action, run, task_id: taskId });
  const code =
    'import nbflow.kernel.lab as _nbflow_lab; ' +
    `_nbflow_lab.act(${pythonString(request)})`;
  const executed = await execute(kernel, code, onStarted);
  if (executed.error) {
    return { ok: false, message: executed.error, run: null, why: null };
  }
  const answer = executed.json as ActAnswer | null;
  if (!answer || typeof answer !== 'object') {
    return {
      ok: false,
      message:
        'the kernel gave no answer (is nbflow importable in it? ' +
        `got ${JSON.stringify(executed.text.slice(0, 200))})`,
      run: null,
      why: null
    };
  }
  return answer;
}

/** Start `%nbflow run <expression> --background` in a kernel. */
export async function runInBackground(
  kernel: Kernel.IKernelConnection,
  expression: string
): Promise<Executed> {
  const line = `run ${expression} --background`;
  const code =
    'get_ipython().run_line_magic("load_ext", "nbflow"); ' +
    `get_ipython().run_line_magic("nbflow", ${pythonString(line)})`;
  return execute(kernel, code);
}
