/** The progress reporter of the CLIs lives in @openfugu/eval (shared with openfugu-eval). */
export { createProgress, type Progress, type ProgressSink, silentProgress } from '@openfugu/eval';
