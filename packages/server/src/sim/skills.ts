/**
 * The simulated workers' behaviour: domain detection, seeded domain-dependent skill, and deterministic
 * answers (a math-skilled worker really computes the arithmetic). Shared by the simulated HTTP upstream,
 * the embedded router's training data and the tests.
 */

/** Task domains the simulator knows. */
export type SimDomain = 'math' | 'code' | 'writing' | 'general';

/** The domains, in a fixed order. */
export const SIM_DOMAINS: readonly SimDomain[] = ['math', 'code', 'writing', 'general'];

/** One simulated model: its upstream name, skill per domain (probability of a correct answer), latency. */
export interface SimulatedModelSpec {
  /** Upstream model name (what the request's `model` must say). */
  model: string;
  /** Probability of a correct answer per domain, in [0, 1] (default 0.5). */
  skill?: Partial<Record<SimDomain, number>>;
  /** Base latency in ms before the answer (default 0). */
  latencyMs?: number;
  /** Extra latency: exponential with this mean, seeded per request (default 0). */
  latencyJitterMs?: number;
  /**
   * Generation time per answer chunk in ms (default 0): a stream waits this long before each content chunk, and
   * a non-streamed answer waits as long in total (one delay per chunk it would have streamed) before it is sent.
   */
  chunkDelayMs?: number;
}

const MATH = /(-?\d+(?:\.\d+)?)\s*([-+*/x×÷])\s*(-?\d+(?:\.\d+)?)/;
const CODE =
  /\b(code|function|python|javascript|typescript|rust|sql|regex|bug|compile|algorithm|implement|class|api)\b/i;
const WRITING =
  /\b(write|poem|essay|story|email|letter|rewrite|summari[sz]e|haiku|slogan|tweet|paragraph)\b/i;
const MATH_WORDS =
  /\b(calculate|compute|sum|product|equation|solve|math|arithmetic|integral|derivative|percent)\b/i;

/** Detects the domain of a prompt by keywords (math before code before writing). */
export function detectDomain(text: string): SimDomain {
  if (MATH.test(text) || MATH_WORDS.test(text)) return 'math';
  if (CODE.test(text)) return 'code';
  if (WRITING.test(text)) return 'writing';
  return 'general';
}

/** FNV-1a 32-bit hash of a string (stable across runs and platforms). */
export function hashString(text: string, seed = 0): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** mulberry32: a small seeded PRNG on [0, 1). */
export function createSeededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whether `spec` answers `prompt` correctly under `seed` (the recorded outcome the router learns from). */
export function simulatedOutcome(spec: SimulatedModelSpec, prompt: string, seed: number): boolean {
  const domain = detectDomain(prompt);
  const skill = spec.skill?.[domain] ?? 0.5;
  return createSeededRandom(hashString(`${spec.model}\u0000${prompt}`, seed))() < skill;
}

/** Evaluates the first `a op b` in the text; undefined when there is none. */
export function solveArithmetic(text: string): number | undefined {
  const match = MATH.exec(text);
  if (!match) return undefined;
  const a = Number(match[1]);
  const b = Number(match[3]);
  switch (match[2]) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
    case 'x':
    case '×':
      return a * b;
    default:
      return b === 0 ? undefined : Math.round((a / b) * 1e6) / 1e6;
  }
}

/** The answer text a simulated model gives to a prompt (deterministic for model, prompt and seed). */
export function simulatedAnswer(spec: SimulatedModelSpec, prompt: string, seed: number): string {
  const correct = simulatedOutcome(spec, prompt, seed);
  if (/\bACCEPT\b/.test(prompt)) {
    return correct ? 'ACCEPT' : 'The previous answer looks wrong; recompute it step by step.';
  }
  const domain = detectDomain(prompt);
  const random = createSeededRandom(hashString(`answer\u0000${spec.model}\u0000${prompt}`, seed));
  switch (domain) {
    case 'math': {
      const value = solveArithmetic(prompt);
      if (value === undefined) {
        return correct
          ? 'Working it through carefully: the result follows from the definition.'
          : 'Probably 42.';
      }
      const shown = correct ? value : value + 1 + Math.floor(random() * 9);
      return `The answer is ${shown}.`;
    }
    case 'code':
      return correct
        ? 'Here is a solution:\n\n```ts\nexport function solve(input: string): string {\n  return input.trim();\n}\n```'
        : 'You could try writing a loop, I think.';
    case 'writing':
      return correct
        ? 'Morning light spills over quiet streets; the city stretches, yawns, and begins again.'
        : 'Text text text.';
    default:
      return correct ? 'Here is a clear, accurate answer to your question.' : 'I am not sure about that.';
  }
}

/** A chat message as the simulator reads it (text only). */
export interface SimMessage {
  role: string;
  text: string;
}

const PLANNER_MARKER = 'You are the conductor of a team of AI workers';

/**
 * What a simulated model replies to a whole conversation. Besides plain answers it plays the roles the
 * orchestrators ask for, so the TRINITY loop and the Conductor can run end to end on the simulated pool:
 * - a Conductor planner prompt gets a workflow (the worker whose description names the task's domain);
 * - a TRINITY Verifier prompt gets ACCEPT or a critique (a skilled verifier really checks arithmetic);
 * - a TRINITY Thinker prompt gets `NEXT: VERIFIER` and a hint.
 */
export function simulatedReply(
  spec: SimulatedModelSpec,
  messages: readonly SimMessage[],
  seed: number,
): string {
  const system = messages
    .filter((message) => message.role === 'system' || message.role === 'developer')
    .map((message) => message.text)
    .join('\n');
  const users = messages.filter((message) => message.role === 'user').map((message) => message.text);
  const all = users.join('\n');
  if (all.includes(PLANNER_MARKER)) return simulatedPlan(all);
  if (/You are the Verifier/.test(system)) {
    const conversation = /<conversation>\n?([\s\S]*?)\n?<\/conversation>/.exec(all)?.[1] ?? all;
    const answer = /<answer>\n?([\s\S]*?)\n?<\/answer>/.exec(all)?.[1] ?? '';
    const skilled = simulatedOutcome(spec, conversation, seed);
    const truth = solveArithmetic(conversation);
    const claimed = /answer is (-?\d+(?:\.\d+)?)/.exec(answer)?.[1];
    if (truth !== undefined && claimed !== undefined) {
      if (!skilled || Number(claimed) === truth) return 'ACCEPT';
      return `The result ${claimed} is wrong; recompute the arithmetic.`;
    }
    return skilled ? 'ACCEPT' : 'The answer is vague; be more specific.';
  }
  if (/You are the Thinker/.test(system)) return 'NEXT: VERIFIER\nHINT: Check the computation step by step.';
  return simulatedAnswer(spec, questionOf(users), seed);
}

const NOTE_PREFIXES = [
  'A previous answer to this request was:',
  "A reviewer's critique",
  'Guidance from a planner',
];

/** The user's actual question, without orchestration scaffolding (Conductor step framing, TRINITY notes). */
function questionOf(users: readonly string[]): string {
  for (let i = users.length - 1; i >= 0; i--) {
    const text = users[i]!;
    const framed = /# The user's question\n([\s\S]*?)(?:\n\n# |$)/.exec(text);
    if (framed) return framed[1]!;
    if (!NOTE_PREFIXES.some((prefix) => text.startsWith(prefix))) return text;
  }
  return users.join('\n');
}

/** A Conductor workflow (lists format) for a planner prompt: the domain's specialist solves, then answers. */
function simulatedPlan(prompt: string): string {
  const poolBlock = /Workers \(use these ids exactly\):\n([\s\S]*?)\n\n/.exec(prompt)?.[1] ?? '';
  const members = poolBlock
    .split('\n')
    .map((line) => /^- ([^\s:(]+)(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ id: match[1]!, text: match[2] ?? '' }));
  const question = prompt.slice(prompt.lastIndexOf('Question:\n') + 'Question:\n'.length);
  const domain = detectDomain(question);
  const best = members.find((member) => member.text.toLowerCase().includes(domain)) ?? members[0];
  const id = best?.id ?? 'worker';
  const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return [
    `The task is about ${domain}; the ${id} worker is the specialist.`,
    `model_id: [${quote(id)}, ${quote(id)}]`,
    `subtasks: [${quote('Solve the problem step by step.')}, ${quote('Check the earlier work and state the complete final answer.')}]`,
    "access_list: [[], 'all']",
  ].join('\n');
}

/** One labelled task for router training. */
export interface SimTask {
  prompt: string;
  domain: SimDomain;
}

/**
 * Deterministic synthetic tasks spread over the domains (for training the embedded router head and for
 * benches). Not a benchmark of real models: it only exercises the mechanism.
 */
export function generateSimTasks(count: number, seed: number): SimTask[] {
  const random = createSeededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const tasks: SimTask[] = [];
  const operators = ['+', '-', '*', '/'];
  const mathAsks = [
    'What is {}?',
    'Calculate {}.',
    'Compute {} for me.',
    'Solve {} step by step.',
    'How much is {}?',
  ];
  const languages = ['python', 'typescript', 'rust', 'sql', 'javascript'];
  const codeAsks = [
    'Write a function that reverses a string in',
    'Fix this bug in my',
    'Implement binary search in',
    'Write a regex in',
  ];
  const forms = ['poem', 'short story', 'haiku', 'email', 'slogan', 'paragraph'];
  const topics = ['the sea', 'autumn', 'a lost key', 'coffee', 'the moon', 'a new job', 'trains'];
  const questions = [
    'Who was Ada Lovelace?',
    'Why is the sky blue?',
    'What is the capital of Peru?',
    'How do vaccines work?',
    'What causes tides?',
  ];
  for (let i = 0; i < count; i++) {
    const domain = SIM_DOMAINS[i % SIM_DOMAINS.length]!;
    let prompt: string;
    if (domain === 'math') {
      const expression = `${Math.floor(random() * 900) + 10} ${pick(operators)} ${Math.floor(random() * 90) + 2}`;
      prompt = pick(mathAsks).replace('{}', expression);
    } else if (domain === 'code') {
      prompt = `${pick(codeAsks)} ${pick(languages)} (case ${i}).`;
    } else if (domain === 'writing') {
      prompt = `Write a ${pick(forms)} about ${pick(topics)} (#${i}).`;
    } else {
      prompt = `${pick(questions)} (question ${i})`;
    }
    tasks.push({ prompt, domain });
  }
  return tasks;
}

/** The embedded default pool: four simulated models with different strengths, latency and price. */
export const DEFAULT_SIMULATED_POOL: readonly {
  id: string;
  description: string;
  spec: SimulatedModelSpec;
  price: { input: number; output: number };
}[] = [
  {
    id: 'math',
    description: 'strong at math and arithmetic; cheap',
    spec: {
      model: 'sim-math-7b',
      skill: { math: 0.95, code: 0.45, writing: 0.3, general: 0.5 },
      latencyMs: 20,
      latencyJitterMs: 20,
    },
    price: { input: 0.2, output: 0.6 },
  },
  {
    id: 'coder',
    description: 'strong at code',
    spec: {
      model: 'sim-coder-14b',
      skill: { math: 0.6, code: 0.92, writing: 0.35, general: 0.55 },
      latencyMs: 30,
      latencyJitterMs: 30,
    },
    price: { input: 0.3, output: 1.2 },
  },
  {
    id: 'writer',
    description: 'strong at writing; good at general questions; cheapest',
    spec: {
      model: 'sim-writer-8b',
      skill: { math: 0.3, code: 0.3, writing: 0.9, general: 0.7 },
      latencyMs: 15,
      latencyJitterMs: 15,
    },
    price: { input: 0.1, output: 0.4 },
  },
  {
    id: 'generalist',
    description: 'good at everything, best at general questions; expensive',
    spec: {
      model: 'sim-generalist-70b',
      skill: { math: 0.75, code: 0.7, writing: 0.7, general: 0.85 },
      latencyMs: 60,
      latencyJitterMs: 60,
    },
    price: { input: 2.5, output: 10 },
  },
];
