/**
 * The implicit satisfaction score (docs/feedback.md). The database computes the stored column with the same
 * formula (migration 1764000200000); this copy serves code and tests, which check that both agree.
 */

export interface ImplicitSignals {
  userContinued: boolean;
  completedAction: boolean;
  requestedHuman: boolean;
  responseTimeSeconds: number | null;
}

/** How soon a reply counts as quick. */
export const QUICK_RESPONSE_SECONDS = 30;
/** How soon the next message must come to count as the customer continuing (interaction-feedback-repository.ts). */
export const CONTINUATION_WINDOW_SECONDS = 30 * 60;

/** 0.5, +0.3 continued, +0.5 completed action, -0.5 asked for a human, +0.2 answered within 30 s; clamped to [0, 1]. */
export function implicitSatisfaction(signals: ImplicitSignals): number {
  // Tenths as integers, so the sum is exact.
  let tenths = 5;
  if (signals.userContinued) tenths += 3;
  if (signals.completedAction) tenths += 5;
  if (signals.requestedHuman) tenths -= 5;
  if (signals.responseTimeSeconds !== null && signals.responseTimeSeconds <= QUICK_RESPONSE_SECONDS) tenths += 2;
  return Math.min(10, Math.max(0, tenths)) / 10;
}
