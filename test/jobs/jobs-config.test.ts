import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config';

describe('jobs configuration', () => {
  it('defaults to jobs in the worker only, 90 days of raw usage and a 5 s alert webhook timeout', () => {
    expect(parseConfig({}).jobs).toEqual({ runInWeb: false, defaultRetentionDays: 90, alertWebhookTimeoutMs: 5000 });
  });

  it('reads JOBS_IN_WEB, USAGE_RETENTION_DAYS and ALERT_WEBHOOK_TIMEOUT_MS', () => {
    expect(parseConfig({ JOBS_IN_WEB: 'true', USAGE_RETENTION_DAYS: '30', ALERT_WEBHOOK_TIMEOUT_MS: '1500' }).jobs).toEqual({
      runInWeb: true,
      defaultRetentionDays: 30,
      alertWebhookTimeoutMs: 1500,
    });
  });

  it('lists every invalid value at once', () => {
    let problems: string[] = [];
    try {
      parseConfig({ USAGE_RETENTION_DAYS: '0', ALERT_WEBHOOK_TIMEOUT_MS: 'soon', JOBS_IN_WEB: 'maybe' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'ALERT_WEBHOOK_TIMEOUT_MS',
      'JOBS_IN_WEB',
      'USAGE_RETENTION_DAYS',
    ]);
  });
});
