/**
 * The woken conversations waiting for a targeted claim: handed out one per tenant in turn, so one tenant's burst of
 * wakes never stands in front of another tenant's single one.
 */
import { describe, expect, it } from 'vitest';
import { PendingWakes } from '../../src/whatsapp/pending-wakes';

const unlimited = () => Number.POSITIVE_INFINITY;

/** Wakes `count` conversations of `tenant`, named `<tenant>-1`, `<tenant>-2`, … */
function wakeMany(wakes: PendingWakes, tenant: string, count: number): void {
  for (let index = 1; index <= count; index += 1) wakes.add(`${tenant}-${index}`, tenant);
}

const conversationsOf = (taken: Array<[string, string]>) => taken.map(([conversationId]) => conversationId);

describe('PendingWakes', () => {
  it("hands out one conversation per tenant in turn, each tenant's oldest first", () => {
    const wakes = new PendingWakes(100);
    wakeMany(wakes, 'busy', 5);
    wakes.add('quiet-1', 'quiet');
    expect(conversationsOf(wakes.take(3, unlimited))).toEqual(['busy-1', 'quiet-1', 'busy-2']);
    expect(conversationsOf(wakes.take(10, unlimited))).toEqual(['busy-3', 'busy-4', 'busy-5']);
    expect(wakes.size).toBe(0);
  });

  it('gives a tenant no more than its room, and keeps the rest of its wakes for later', () => {
    const wakes = new PendingWakes(100);
    wakeMany(wakes, 'busy', 5);
    wakeMany(wakes, 'quiet', 2);
    const room = (tenant: string) => (tenant === 'busy' ? 1 : 10);
    expect(conversationsOf(wakes.take(10, room))).toEqual(['busy-1', 'quiet-1', 'quiet-2']);
    expect(wakes.take(10, () => 0)).toEqual([]);
    expect(conversationsOf(wakes.take(10, unlimited))).toEqual(['busy-2', 'busy-3', 'busy-4', 'busy-5']);
  });

  it('starts the next call with the tenants the last one did not reach', () => {
    const wakes = new PendingWakes(100);
    for (const tenant of ['a', 'b', 'c']) wakeMany(wakes, tenant, 2);
    expect(conversationsOf(wakes.take(2, unlimited))).toEqual(['a-1', 'b-1']);
    expect(conversationsOf(wakes.take(2, unlimited))).toEqual(['c-1', 'a-2']);
    expect(conversationsOf(wakes.take(2, unlimited))).toEqual(['b-2', 'c-2']);
  });

  it('remembers a conversation once, forgets one claimed another way, and stops remembering at its limit', () => {
    const wakes = new PendingWakes(3);
    wakes.add('a-1', 'a');
    wakes.add('a-1', 'a');
    wakes.add('b-1', 'b');
    wakes.delete('b-1', 'b');
    wakes.delete('missing', 'b');
    expect(wakes.size).toBe(1);
    wakeMany(wakes, 'c', 4);
    expect(wakes.size).toBe(3);
    expect(conversationsOf(wakes.take(10, unlimited))).toEqual(['a-1', 'c-1', 'c-2']);
  });
});
