/**
 * The serve-time cost–quality knob over the embedded head, in process (no HTTP): for each operating point
 * (the presets, a λ sweep, calibrated "at most X % to the most expensive worker"), the share of prompts per
 * worker, the mean normalised price and the simulated pool's reward (its recorded outcome for the chosen
 * worker), on the head's training prompts and on its held-out validation prompts (20 %).
 *
 * Run: `pnpm --filter @openfugu/server bench:knob [--seed 1]`
 */
import { parseArgs } from 'node:util';
import { EMBEDDED_LAMBDA, trainEmbeddedRouter } from '../src/embedded-router.js';
import { createKnobRouter, FAST_LAMBDA, type KnobPreset } from '../src/knob.js';
import { DEFAULT_SIMULATED_POOL, simulatedOutcome } from '../src/sim/skills.js';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' } } });
const seed = Number(values.seed);
const trained = trainEmbeddedRouter({ seed });
const agents = trained.qualityHead.agents!;
const knob = createKnobRouter({
  head: trained.qualityHead,
  backbone: trained.backbone,
  agents,
  prices: trained.prices,
  defaultLambda: EMBEDDED_LAMBDA,
  calibration: trained.trainingPrompts,
});
const strong = agents[knob.strong]!;
const points: KnobPreset[] = [
  { model: 'fugu-max (λ 0)', lambda: 0 },
  { model: `fugu (λ ${EMBEDDED_LAMBDA})`, lambda: EMBEDDED_LAMBDA },
  { model: 'λ 0.15', lambda: 0.15 },
  { model: 'λ 0.3', lambda: 0.3 },
  { model: `fugu-fast (λ ${FAST_LAMBDA})`, lambda: FAST_LAMBDA },
  { model: 'λ 1', lambda: 1 },
  ...[0.5, 0.3, 0.2, 0.1].map((x) => ({ model: `≤ ${x * 100} % strong`, maxStrongShare: x })),
];

async function measure(preset: KnobPreset, prompts: readonly string[]) {
  const router = knob.forRequest(knob.resolve(preset));
  const counts = new Map<string, number>(agents.map((a) => [a, 0]));
  let price = 0;
  let reward = 0;
  for (const text of prompts) {
    const decision = await router.route(text);
    counts.set(decision.agent, counts.get(decision.agent)! + 1);
    price += knob.prices[decision.agentIndex]!;
    const spec = DEFAULT_SIMULATED_POOL.find((entry) => entry.id === decision.agent)!.spec;
    reward += simulatedOutcome(spec, text.replace(/^user: /, ''), seed) ? 1 : 0;
  }
  const n = prompts.length;
  return { strong: counts.get(strong)! / n, counts, price: price / n, reward: reward / n };
}

console.log(
  `embedded head (seed ${seed}): ${trained.method}; ${trained.trainingPrompts.length} training / ${trained.validationPrompts.length} validation prompts; strong = ${strong}`,
);
console.log(
  `| operating point | strong share (train) | strong share (val) | mean price / max (val) | reward (val) | picks (val: ${agents.join(' / ')}) |`,
);
console.log('|---|---|---|---|---|---|');
for (const preset of points) {
  const train = await measure(preset, trained.trainingPrompts);
  const val = await measure(preset, trained.validationPrompts);
  console.log(
    `| ${preset.model} | ${train.strong.toFixed(3)} | ${val.strong.toFixed(3)} | ${val.price.toFixed(3)} | ${val.reward.toFixed(3)} | ${agents.map((a) => val.counts.get(a)).join(' / ')} |`,
  );
}
