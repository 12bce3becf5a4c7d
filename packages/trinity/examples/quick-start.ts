/**
 * Runs with no downloads: the hashing backbone, a head trained in a second on a toy outcome table, and a
 * coordinator run over two scripted workers.
 *
 *   pnpm --filter @openfugu/trinity exec tsx --conditions=@openfugu/source examples/quick-start.ts
 */
import {
  createHashingBackbone,
  createRouter,
  renderPrompt,
  runCoordinator,
  trainRouterHead,
} from '@openfugu/trinity';
import { createScriptedWorker } from '@openfugu/trinity/test';

const backbone = createHashingBackbone({ dimension: 256 });

// Recorded outcomes: 'math' solves arithmetic prompts, 'writer' solves writing prompts.
const prompts = [
  ...[
    'What is 17 * 23?',
    'Compute 1234 + 5678.',
    'Solve 3x + 5 = 20.',
    'What is 15% of 240?',
    'Divide 144 by 12.',
    'What is 2^10?',
  ],
  ...[
    'Write a haiku about rain.',
    'Draft a polite email declining a meeting.',
    'Write a limerick about a cat.',
    'Compose a toast for a wedding.',
    'Write a short story opening.',
    'Describe autumn in two sentences.',
  ],
];
const outcomes = prompts.map((_, i) => (i < 6 ? [1, 0] : [0, 1]));

const { head } = trainRouterHead({
  // renderPrompt: the text route() reads for a one-message conversation (`user: …`), so training and
  // routing see the same text.
  features: prompts.map((p) => backbone.embedSync(renderPrompt(p))),
  outcomes,
  agents: ['math', 'writer'],
  roles: true,
  validationFraction: 0,
  maxGenerations: 60,
  seed: 1,
});
const router = createRouter({ backbone, head });

console.log(router.routeSync([{ role: 'user', content: 'What is 48 * 12?' }]).agent); // 'math'
console.log(router.routeSync([{ role: 'user', content: 'Write a poem about the sea.' }]).agent); // 'writer'

const result = await runCoordinator({
  router,
  workers: [
    createScriptedWorker({ id: 'math', replies: ['576'] }),
    createScriptedWorker({ id: 'writer', replies: ['Waves fold silver light…'] }),
  ],
  messages: [{ role: 'user', content: 'What is 48 * 12?' }],
  maxTurns: 1,
});
// The role rows of this head are zeros (only agent rows are trained on one-shot outcomes), so every
// turn plays Worker; a head with trained role rows also picks Thinker / Verifier turns.
console.log(
  result.answer,
  result.reason,
  result.turns.map((t) => `${t.agent}/${t.role}`),
); // 576 max_turns [ 'math/worker' ]
