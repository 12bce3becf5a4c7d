/** Test-double workers with controlled latency, replies and failures (used by tests and the bench). */
import {
  AbortedError,
  type Usage,
  type Worker,
  type WorkerRequest,
  type WorkerResponse,
} from '@openfugu/schema';

export interface FakeWorkerSettings {
  /** Latency of each call in ms (a timer; 0 = resolve on the next microtask). */
  delayMs?: number;
  /** Reply text; default `<id>: <last line of the last message>`. */
  reply?: (request: WorkerRequest, call: number) => string;
  /** Throw this on the given 1-based calls (or every call when `true`). */
  fail?: { error: () => unknown; calls?: number[] | true };
  usage?: Usage;
  /** Ignore the abort signal (to test that the executor still settles). */
  ignoreSignal?: boolean;
}

export interface FakeWorker extends Worker {
  readonly requests: WorkerRequest[];
  readonly aborted: number;
  active: number;
  maxActive: number;
}

export function fakeWorker(id: string, settings: FakeWorkerSettings = {}): FakeWorker {
  const worker: FakeWorker = {
    id,
    requests: [],
    aborted: 0,
    active: 0,
    maxActive: 0,
    async complete(request, options): Promise<WorkerResponse> {
      worker.requests.push(request);
      const call = worker.requests.length;
      worker.active++;
      worker.maxActive = Math.max(worker.maxActive, worker.active);
      try {
        const delay = settings.delayMs ?? 0;
        await new Promise<void>((resolve, reject) => {
          const signal = settings.ignoreSignal ? undefined : options?.signal;
          if (signal?.aborted) return reject(new AbortedError({ cause: signal.reason }));
          const timer = delay > 0 ? setTimeout(resolve, delay) : undefined;
          if (timer === undefined) queueMicrotask(resolve);
          signal?.addEventListener(
            'abort',
            () => {
              if (timer !== undefined) clearTimeout(timer);
              (worker as { aborted: number }).aborted++;
              reject(new AbortedError({ cause: signal.reason }));
            },
            { once: true },
          );
        });
        const failing = settings.fail;
        if (
          failing &&
          (failing.calls === true || failing.calls?.includes(call) || failing.calls === undefined)
        ) {
          throw failing.error();
        }
        const last = request.messages.at(-1);
        const text = typeof last?.content === 'string' ? last.content : '';
        const content = settings.reply ? settings.reply(request, call) : `${id}: ${text.split('\n').at(-1)}`;
        const response: WorkerResponse = { content };
        if (settings.usage) response.usage = settings.usage;
        return response;
      } finally {
        worker.active--;
      }
    },
  };
  return worker;
}
