import {
  createHashingBackbone,
  createWideConcatBackbone,
  isSparseVector,
  renderMessages,
  toDense,
} from '@openfugu/trinity';
import { describe, expect, it } from 'vitest';
import { createBackboneEmbedder } from './wiring.js';

describe('createBackboneEmbedder', () => {
  it('embeds a recorded prompt as the router reads it in a conversation (user: <prompt>)', async () => {
    const embedder = await createBackboneEmbedder('hashing');
    const prompt = 'Write a poem about the sea.';
    const [trained] = await embedder.embed([prompt]);
    const routed = createHashingBackbone({ dimension: 1024 }).embedSync(
      renderMessages([{ role: 'user', content: prompt }]),
    );
    expect(isSparseVector(trained)).toBe(false);
    expect(Array.from(trained as Float32Array)).toEqual(Array.from(routed));
  });

  it('concat-sparse hands over the non-zeros of the vector the wide backbone routes with', async () => {
    const embedder = await createBackboneEmbedder('concat-sparse');
    const prompt = 'What is 17 × 23? Show your work.';
    const [trained] = await embedder.embed([prompt]);
    if (!isSparseVector(trained)) throw new Error('expected a sparse vector');
    const wide = createWideConcatBackbone();
    expect(embedder.id).toBe(wide.id);
    expect(trained.dimension).toBe(98_324);
    expect(trained.indices.length).toBeLessThan(500);
    const routed = wide.embedSync(renderMessages([{ role: 'user', content: prompt }]));
    expect(Array.from(toDense(trained))).toEqual(Array.from(routed));
  });
});
