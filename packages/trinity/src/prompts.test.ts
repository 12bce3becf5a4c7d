import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseThinkerReply,
  parseVerifierReply,
  thinkerMessages,
  verifierMessages,
  workerMessages,
} from './prompts.js';

describe('parseThinkerReply', () => {
  it('reads labelled suggestions in any case and with markdown', () => {
    expect(parseThinkerReply('NEXT: VERIFIER\nHINT: check the arithmetic')).toEqual({
      nextRole: 'verifier',
      hint: 'check the arithmetic',
    });
    expect(parseThinkerReply('**Next role** = worker\n**Hint**: use a table')).toEqual({
      nextRole: 'worker',
      hint: 'use a table',
    });
  });
  it('falls back to the first role word and the whole text', () => {
    expect(parseThinkerReply('I think a Worker should restate the problem.')).toEqual({
      nextRole: 'worker',
      hint: 'I think a Worker should restate the problem.',
    });
    expect(parseThinkerReply('No idea.')).toEqual({ hint: 'No idea.' });
  });
  it('never throws', () => {
    fc.assert(fc.property(fc.string(), (s) => typeof parseThinkerReply(s).hint === 'string'));
  });
});

describe('parseVerifierReply', () => {
  it('accepts ACCEPT variants and rejects critiques', () => {
    for (const text of ['ACCEPT', 'accept.', '**ACCEPTED**', 'Verdict: accept', '  Accept — looks right']) {
      expect(parseVerifierReply(text).accepted).toBe(true);
    }
    for (const text of [
      'The answer is wrong: 3 × 4 = 12.',
      'I cannot accept this',
      'ACCEPT? No, REJECT',
      'acceptable?',
    ]) {
      expect(parseVerifierReply(text).accepted).toBe(false);
    }
    expect(parseVerifierReply(' Missing units. ').critique).toBe('Missing units.');
  });
});

describe('role prompts', () => {
  const messages = [{ role: 'user' as const, content: 'What is 3 × 4?' }];
  it('gives a Worker the conversation unchanged when there is nothing to add', () => {
    expect(workerMessages({ messages })).toEqual(messages);
  });
  it('adds previous answer, critique and hint in one final user note', () => {
    const out = workerMessages({ messages, answer: '7', critique: 'Wrong product.', hint: 'Multiply.' });
    expect(out).toHaveLength(2);
    const note = String(out[1]!.content);
    expect(note).toContain('<answer>\n7\n</answer>');
    expect(note).toContain('Wrong product.');
    expect(note).toContain('Multiply.');
  });
  it('frames Thinker and Verifier requests with their system prompts and the rendered conversation', () => {
    const t = thinkerMessages({ messages });
    expect(t[0]!.role).toBe('system');
    expect(String(t[0]!.content)).toContain('NEXT: WORKER or VERIFIER');
    expect(String(t[1]!.content)).toContain('user: What is 3 × 4?');
    expect(String(t[1]!.content)).toContain('(none yet)');
    const v = verifierMessages({ messages, answer: '12' });
    expect(String(v[0]!.content)).toContain('ACCEPT');
    expect(String(v[1]!.content)).toContain('<answer>\n12\n</answer>');
  });
});
