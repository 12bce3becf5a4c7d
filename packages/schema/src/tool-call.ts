/** Normalised tool calls (arguments already decoded), the form every verifier and reward works on. */
import { type Static, Type } from '@sinclair/typebox';

/** A decoded tool call: `{ name, arguments }`, with the wire id when there was one. */
export const ToolCallSchema = Type.Object({
  id: Type.Optional(Type.String()),
  name: Type.String(),
  arguments: Type.Record(Type.String(), Type.Unknown()),
});
export type ToolCall = Static<typeof ToolCallSchema>;
