/**
 * Counting the statements of one piece of work: what it starts is counted, what runs beside it is not.
 */
import { describe, expect, it } from 'vitest';
import { countStatement, countStatementsOf, statementCount } from '../../src/db/statement-counter';

describe('statement counter', () => {
  it('counts a piece of work and what it awaits, but not work running beside it', async () => {
    const before = statementCount();
    let releaseNeighbour: () => void = () => {};
    const neighbourGate = new Promise<void>((resolve) => {
      releaseNeighbour = resolve;
    });
    // Started outside the scope: its statements land while the measured work runs.
    const neighbour = (async () => {
      await neighbourGate;
      countStatement();
      countStatement();
    })();
    const measured = await countStatementsOf(async () => {
      countStatement();
      releaseNeighbour();
      await neighbour;
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          countStatement();
          resolve();
        }, 1),
      );
    });
    expect(measured).toBe(2);
    expect(statementCount() - before).toBe(4);
  });
});
