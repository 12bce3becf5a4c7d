/** Conductor workflows: which worker does which subtask, seeing which earlier steps. */
import { type Static, Type } from '@sinclair/typebox';

/** Which earlier steps a step may see: `"all"` earlier steps, or a list of 0-based earlier step indices. */
export const StepAccessSchema = Type.Union([Type.Literal('all'), Type.Array(Type.Integer({ minimum: 0 }))]);
export type StepAccess = Static<typeof StepAccessSchema>;

/** One workflow step. */
export const WorkflowStepSchema = Type.Object({
  worker: Type.String({ minLength: 1 }),
  subtask: Type.String(),
  access: StepAccessSchema,
});
export type WorkflowStep = Static<typeof WorkflowStepSchema>;

/** A workflow: the last step's output is the answer. */
export const WorkflowSchema = Type.Object({ steps: Type.Array(WorkflowStepSchema, { minItems: 1 }) });
export type Workflow = Static<typeof WorkflowSchema>;

/** Default maximum number of steps (the Conductor paper's limit). */
export const DEFAULT_MAX_WORKFLOW_STEPS = 5;
