/**
 * Progress reporting for long runs (openfugu-eval, openfugu-train): a cli-progress bar with ETA when stderr
 * is a terminal, plain timestamped lines (about every 10 %) when it is not (CI logs, pipes, files).
 */
import { SingleBar } from 'cli-progress';

/** What a command reports while it runs. */
export interface Progress {
  /** Moves to `value` (of `total`) and shows `status` next to the bar. */
  update(value: number, status?: string): void;
  /** Prints a line without breaking the bar. */
  log(line: string): void;
  stop(): void;
}

/** Where progress goes. */
export interface ProgressSink {
  write(text: string): void;
  isTTY?: boolean;
}

/** A progress reporter that prints nothing. */
export const silentProgress: Progress = { update() {}, log() {}, stop() {} };

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * Creates a progress reporter for `total` steps labelled `label`: a bar with ETA on a TTY, otherwise a
 * plain line every `every` steps (default total/10) and at the end.
 *
 * @example
 * ```ts
 * const progress = createProgress('training', 100, process.stderr);
 * progress.update(10, 'validation 0.71');
 * progress.stop();
 * ```
 */
export function createProgress(
  label: string,
  total: number,
  sink: ProgressSink,
  options: { every?: number; now?: () => number; start?: number } = {},
): Progress {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const startValue = options.start ?? 0;
  if (sink.isTTY === true) {
    const bar = new SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {status}`,
        stream: sink as unknown as NodeJS.WritableStream,
        hideCursor: true,
        etaBuffer: 20,
        fps: 5,
      },
      undefined,
    );
    bar.start(total, startValue, { status: '' });
    return {
      update(value, status = '') {
        bar.update(value, { status });
      },
      log(line) {
        // cli-progress redraws on the next update; clear the line first so the log stays readable.
        sink.write(`\r\x1b[K${line}\n`);
      },
      stop() {
        bar.stop();
      },
    };
  }
  const every = Math.max(1, options.every ?? Math.ceil(total / 10));
  let last = startValue;
  return {
    update(value, status = '') {
      if (value - last < every && value !== total) return;
      last = value;
      const elapsed = (now() - started) / 1000;
      const done = value - startValue;
      const eta = done > 0 ? (elapsed / done) * (total - value) : Number.NaN;
      const pct = total > 0 ? ((100 * value) / total).toFixed(0) : '100';
      sink.write(
        `${label} ${value}/${total} (${pct}%) elapsed ${formatSeconds(elapsed)} ETA ${formatSeconds(eta)}${status ? ` | ${status}` : ''}\n`,
      );
    },
    log(line) {
      sink.write(`${line}\n`);
    },
    stop() {},
  };
}
