/** Every entity, registered with the DataSource. New entities are added here. */
import { AgentInteraction } from './agent-interaction';
import { ApiKey } from './api-key';
import { CircuitBreakerState } from './circuit-breaker-state';
import { ContentTemplate } from './content-template';
import { Conversation } from './conversation';
import { Correction } from './correction';
import { Customer } from './customer';
import { JobRun } from './job-run';
import { InteractionFeedback } from './interaction-feedback';
import { KnowledgeEntry } from './knowledge-entry';
import { Message } from './message';
import { ProviderDailySummary } from './provider-daily-summary';
import { ProviderHealthState } from './provider-health-state';
import { ProviderUsage } from './provider-usage';
import { Tenant } from './tenant';
import { User } from './user';

export {
  AgentInteraction,
  ApiKey,
  CircuitBreakerState,
  ProviderUsage,
  Conversation,
  Customer,
  KnowledgeEntry,
  Message,
  Tenant,
  User,
  ProviderDailySummary,
  JobRun,
  ProviderHealthState,
  Correction,
  InteractionFeedback,
  ContentTemplate,
};

export const ENTITIES = [
  Tenant,
  User,
  ApiKey,
  Customer,
  Conversation,
  Message,
  AgentInteraction,
  KnowledgeEntry,
  ProviderUsage,
  CircuitBreakerState,
  ProviderDailySummary,
  JobRun,
  ProviderHealthState,
  Correction,
  InteractionFeedback,
  ContentTemplate,
];
