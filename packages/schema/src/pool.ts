/** Worker and pool descriptors: who is in the pool, what they cost, what they are good at. */
import { type Static, Type } from '@sinclair/typebox';

/** Price in US dollars per one million tokens. */
export const PriceSchema = Type.Object({
  input: Type.Number({ minimum: 0 }),
  output: Type.Number({ minimum: 0 }),
});
export type Price = Static<typeof PriceSchema>;

/** One pool member. `model` is the upstream model name; it is internal and never shown to clients. */
export const WorkerDescriptorSchema = Type.Object({
  id: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._:/-]+$' }),
  model: Type.String({ minLength: 1 }),
  description: Type.Optional(Type.String()),
  price: Type.Optional(PriceSchema),
});
export type WorkerDescriptor = Static<typeof WorkerDescriptorSchema>;

/** A pool: ordered workers (the order is the router head's agent index). */
export const PoolDescriptorSchema = Type.Object({
  workers: Type.Array(WorkerDescriptorSchema, { minItems: 1 }),
});
export type PoolDescriptor = Static<typeof PoolDescriptorSchema>;
