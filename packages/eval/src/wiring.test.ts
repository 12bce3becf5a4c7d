import { createHashingBackbone, renderMessages } from '@openfugu/trinity';
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
    expect(Array.from(trained!)).toEqual(Array.from(routed));
  });
});
