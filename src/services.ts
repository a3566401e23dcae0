/**
 * Builds Parley's services from a config and an open database. The web and worker entries, the CLIs and the
 * tests all assemble the system here, so there is one wiring to reason about.
 */
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from './config';
import { ApiKeyService } from './access/api-key-service';
import { Agent } from './agent/agent';
import { AgentTurnHandler, type TurnHandler } from './agent/turn-handler';
import { CorrectionRetriever } from './corrections/correction-retriever';
import { JobRunner } from './jobs/job-runner';
import { scheduledJobs } from './jobs/scheduled-jobs';
import { Scheduler } from './jobs/scheduler';
import { KnowledgeRetriever } from './knowledge/knowledge-retriever';
import { createReplyGenerator, type ReplyGenerator } from './llm/reply-generator';
import { Metrics } from './metrics';
import { TenantService } from './tenants/tenant-service';
import { Inbox } from './whatsapp/inbox';
import { InboxProcessor } from './whatsapp/inbox-processor';
import { OutboundSender } from './whatsapp/outbound-sender';
import { TransportRegistry } from './whatsapp/transport';
import { WorkQueue } from './whatsapp/work-queue';

export interface Services {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  tenants: TenantService;
  apiKeys: ApiKeyService;
  inbox: Inbox;
  queue: WorkQueue;
  transports: TransportRegistry;
  sender: OutboundSender;
  knowledge: KnowledgeRetriever;
  replies: ReplyGenerator;
  agent: Agent;
  turns: TurnHandler;
  processor: InboxProcessor;
  metrics: Metrics;
  jobRunner: JobRunner;
  /** Scheduled jobs; nothing runs until scheduler.start(). */
  scheduler: Scheduler;
}

export interface ServiceOverrides {
  replies?: ReplyGenerator;
}

/** Assembles every service; nothing starts running until processor.start(). */
export function buildServices(
  config: Config,
  dataSource: DataSource,
  encryptionKey: Buffer,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Services {
  const manager = dataSource.manager;
  const tenants = new TenantService(manager, encryptionKey);
  const apiKeys = new ApiKeyService(manager);
  const inbox = new Inbox(dataSource);
  const queue = new WorkQueue(manager, config.inbox.leaseSeconds);
  // Twilio calls end well inside the lease, so a slow send cannot overlap a second worker's retry.
  const transports = new TransportRegistry(logger, config.twilio.apiBaseUrl, Math.min(15_000, (config.inbox.leaseSeconds * 1000) / 2));
  const sender = new OutboundSender(manager, queue, tenants, transports, `${config.publicBaseUrl}/v1/webhooks/twilio/status`, logger);
  const knowledge = new KnowledgeRetriever(manager);
  const replies = overrides.replies ?? createReplyGenerator({ config, manager, logger });
  const agent = new Agent(manager, knowledge, replies, { historyLimit: 20 }, new CorrectionRetriever(manager));
  const turns = new AgentTurnHandler(agent);
  const processor = new InboxProcessor(manager, queue, tenants, turns, sender, logger, {
    concurrency: config.inbox.concurrency,
    pollIntervalMs: config.inbox.pollIntervalMs,
  });
  const metrics = new Metrics(manager, () => queue.backlog());
  const jobRunner = new JobRunner(dataSource, logger);
  const scheduler = new Scheduler(scheduledJobs(jobRunner, config.jobs, logger), logger);
  return { config, logger, dataSource, tenants, apiKeys, inbox, queue, transports, sender, knowledge, replies, agent, turns, processor, metrics, jobRunner, scheduler };
}
