/**
 * Builds Parley's services from a config and an open database. The web and worker entries, the CLIs and the
 * tests all assemble the system here, so there is one wiring to reason about.
 */
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from './config';
import { ApiKeyService } from './access/api-key-service';
import { Agent, DEFAULT_HISTORY_LIMIT } from './agent/agent';
import { AgentTurnHandler, type TurnHandler } from './agent/turn-handler';
import { ConversationRulesTurnHandler } from './conversations/conversation-rules-turn-handler';
import { ConversationService } from './conversations/conversation-service';
import { HandoffService } from './conversations/handoff-service';
import { FeedbackTurnHandler } from './feedback/feedback-turn-handler';
import { feedbackTokenKey } from './feedback/feedback-token';
import { InteractionFeedbackService } from './feedback/interaction-feedback-service';
import { CorrectionService } from './corrections/correction-service';
import { AgentInteractionRepository } from './db/repositories/agent-interaction-repository';
import { ConversationRepository } from './db/repositories/conversation-repository';
import { CorrectionRepository } from './db/repositories/correction-repository';
import { InteractionFeedbackRepository } from './db/repositories/interaction-feedback-repository';
import { MessageRepository } from './db/repositories/message-repository';
import { RoutingPosteriorRepository } from './db/repositories/routing-posterior-repository';
import { FeedbackQueryService } from './feedback/feedback-query-service';
import { RoutingFeedback } from './feedback/routing-feedback';
import { JobRunner } from './jobs/job-runner';
import { scheduledJobs } from './jobs/scheduled-jobs';
import { Scheduler } from './jobs/scheduler';
import { KnowledgeChunkRepository } from './db/repositories/knowledge-chunk-repository';
import { KnowledgeDocumentRepository } from './db/repositories/knowledge-document-repository';
import { DocumentIndexer } from './knowledge/document-indexer';
import { KnowledgeDocumentService } from './knowledge/document-service';
import { QuestionAnswerPassages } from './knowledge/question-answer-passages';
import { KnowledgeSearch } from './knowledge/hybrid-search';
import { KnowledgeIndexingWorker } from './knowledge/indexing-worker';
import { describePassages } from './knowledge/passage-sources';
import { VectorIndex } from './knowledge/vector-index';
import { CircuitBreaker } from './llm/circuit-breaker';
import { EmbeddingService } from './llm/embeddings';
import { SafeHttpClient } from './net/safe-http';
import { loadDefaultCatalog } from './llm/catalog/model-catalog';
import { createMediaModels } from './llm/media-models';
import { ProviderRegistry } from './llm/provider-registry';
import { createReplyGenerator, type ReplyGenerator } from './llm/reply-generator';
import { ProviderGate } from './llm/provider-gate';
import { RoutingPosteriors } from './llm/routing/routing-posteriors';
import { TenantBreakers } from './llm/tenant-breakers';
import { Metrics } from './metrics';
import { createWebhookSender, type WebhookSender, type WebhookSenderOptions } from './net/outbound-webhooks';
import { TenantSettingsService } from './tenants/settings-service';
import { TenantService } from './tenants/tenant-service';
import { ProviderUsageRecorder } from './tracking/provider-usage-recorder';
import { RoutingInsightsService } from './tracking/routing-insights';
import { ContentTemplates } from './whatsapp/content-templates';
import { DeliveryStatusService } from './whatsapp/delivery-status';
import { Inbox } from './whatsapp/inbox';
import { InboxProcessor } from './whatsapp/inbox-processor';
import { MediaDownloader } from './whatsapp/media/media-download';
import { MediaUnderstander } from './whatsapp/media/media-understanding';
import { OutboundSender } from './whatsapp/outbound-sender';
import { TransportRegistry } from './whatsapp/transport';
import { TypingIndicator } from './whatsapp/typing-indicator';
import { WorkQueue } from './whatsapp/work-queue';

/** The repositories: the one home of each table's SQL on the message path. */
export interface Repositories {
  messages: MessageRepository;
  conversations: ConversationRepository;
  interactions: AgentInteractionRepository;
  feedback: InteractionFeedbackRepository;
  corrections: CorrectionRepository;
  routingPosteriors: RoutingPosteriorRepository;
  knowledgeDocuments: KnowledgeDocumentRepository;
  knowledgeChunks: KnowledgeChunkRepository;
}

export interface Services {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  repositories: Repositories;
  tenants: TenantService;
  apiKeys: ApiKeyService;
  inbox: Inbox;
  queue: WorkQueue;
  transports: TransportRegistry;
  sender: OutboundSender;
  /** Embeddings through the provider layer (null never: a tenant without a provider gets no embedder). */
  embeddings: EmbeddingService;
  /** Hybrid search over document passages (the agent's and GET /v1/bot/knowledge/search's). */
  knowledgeSearch: KnowledgeSearch;
  questionAnswerPassages: QuestionAnswerPassages;
  /** Indexes queued knowledge documents (extract, chunk, embed, store). */
  documentIndexer: DocumentIndexer;
  /** Runs the indexer in the background; nothing runs until start(). */
  knowledgeWorker: KnowledgeIndexingWorker;
  /** The documents API's service (add, list, re-sync, delete, search). */
  knowledgeDocuments: KnowledgeDocumentService;
  replies: ReplyGenerator;
  /** This process's view of the tenants' routing posteriors (shared in PostgreSQL). */
  posteriors: RoutingPosteriors;
  /** Which circuit breakers apply to a tenant (its own credentials', the platform's it uses). */
  tenantBreakers: TenantBreakers;
  agent: Agent;
  turns: TurnHandler;
  processor: InboxProcessor;
  feedback: InteractionFeedbackService;
  feedbackQueries: FeedbackQueryService;
  corrections: CorrectionService;
  deliveryStatus: DeliveryStatusService;
  routingInsights: RoutingInsightsService;
  /** The settings API's service (GET/PATCH /v1/bot/settings, tenant:configure). */
  settings: TenantSettingsService;
  /** HMAC key of feedback tokens (issued with replies, verified by POST /v1/bot/feedback/submit). */
  feedbackTokenKey: Buffer;
  handoffs: HandoffService;
  /** Signed tenant webhooks (handoff, provider-health alerts), sent in the background; stop() on shutdown. */
  webhooks: WebhookSender;
  contentTemplates: ContentTemplates;
  /** WhatsApp's typing indicator, shown in the background when a turn starts. */
  typing: TypingIndicator;
  conversations: ConversationService;
  /** The clock of feedback signals and events (overridable in tests). */
  now: () => Date;
  metrics: Metrics;
  jobRunner: JobRunner;
  /** Scheduled jobs; nothing runs until scheduler.start(). */
  scheduler: Scheduler;
}

export interface ServiceOverrides {
  replies?: ReplyGenerator;
  now?: () => Date;
  /** The wait between webhook retries (tests pass one that returns at once; the backoff arithmetic has its own tests). */
  webhookBackoff?: WebhookSenderOptions['sleep'];
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
  const repositories: Repositories = {
    messages: new MessageRepository(dataSource),
    conversations: new ConversationRepository(manager),
    interactions: new AgentInteractionRepository(manager),
    feedback: new InteractionFeedbackRepository(manager),
    corrections: new CorrectionRepository(manager),
    routingPosteriors: new RoutingPosteriorRepository(manager),
    knowledgeDocuments: new KnowledgeDocumentRepository(manager),
    knowledgeChunks: new KnowledgeChunkRepository(manager),
  };
  const tenants = new TenantService(manager, encryptionKey, { urlPolicy: config.outbound });
  const settings = new TenantSettingsService(manager, tenants, encryptionKey);
  const apiKeys = new ApiKeyService(manager);
  const inbox = new Inbox(repositories.messages);
  const now = overrides.now ?? (() => new Date());
  const queue = new WorkQueue(repositories.messages, config.inbox.leaseSeconds, config.inbox.burst, now);
  // Twilio calls end well inside the lease, so a slow send cannot overlap a second worker's retry.
  const transports = new TransportRegistry(logger, config.twilio.apiBaseUrl, Math.min(15_000, (config.inbox.leaseSeconds * 1000) / 2));
  const contentTemplates = new ContentTemplates(manager, transports, logger);
  const sender = new OutboundSender(
    { messages: repositories.messages, contentTemplates, conversations: repositories.conversations },
    queue,
    tenants,
    transports,
    `${config.publicBaseUrl}/v1/webhooks/twilio/status`,
    logger,
  );
  const metrics = new Metrics(
    manager,
    () => queue.backlog(),
    async () => (await tenants.tenantsWithInvalidSettings()).length,
  );
  const posteriors = new RoutingPosteriors(repositories.routingPosteriors);
  // One registry: the replies and the breakers a tenant is shown resolve the same credentials.
  const providerRegistry = new ProviderRegistry(config);
  const tenantBreakers = new TenantBreakers(tenants, providerRegistry);
  // One set of breakers, one gate and one usage recorder for replies, media and embeddings.
  const providerUsage = new ProviderUsageRecorder(manager);
  const providerBreaker = new CircuitBreaker(manager);
  const providerGate = new ProviderGate({ maxConcurrent: config.providerMaxConcurrency });
  // Embeddings share the replies' breakers and usage recorder: a key that fails for one fails for both.
  const embeddings = new EmbeddingService({ registry: providerRegistry, breaker: providerBreaker, usage: providerUsage, logger });
  const knowledgeSearch = new KnowledgeSearch({
    chunks: repositories.knowledgeChunks,
    vectors: new VectorIndex(repositories.knowledgeChunks),
    embeddings,
  });
  const documentIndexer = new DocumentIndexer({
    dataSource,
    documents: repositories.knowledgeDocuments,
    chunks: repositories.knowledgeChunks,
    tenants,
    embeddings,
    // Fetching and crawling: public addresses only (checked at connect time), hosts in OUTBOUND_ALLOWED_HOSTS excepted.
    http: new SafeHttpClient(config.outbound),
    logger,
    onIndexed: (tenantId) => knowledgeSearch.forgetTenant(tenantId),
  });
  const knowledgeWorker = new KnowledgeIndexingWorker(documentIndexer, logger);
  const questionAnswerPassages = new QuestionAnswerPassages({
    chunks: repositories.knowledgeChunks,
    documents: repositories.knowledgeDocuments,
    tenants,
    onChanged: (tenantId) => {
      knowledgeSearch.forgetTenant(tenantId);
      knowledgeWorker.wake();
    },
  });
  const knowledgeDocuments = new KnowledgeDocumentService({
    documents: repositories.knowledgeDocuments,
    chunks: repositories.knowledgeChunks,
    search: knowledgeSearch,
    tenants,
    urlPolicy: config.outbound,
    onQueued: () => knowledgeWorker.wake(),
  });
  const replies =
    overrides.replies ??
    createReplyGenerator({
      config,
      manager,
      usage: providerUsage,
      logger,
      metrics,
      posteriors,
      registry: providerRegistry,
      breaker: providerBreaker,
      gate: providerGate,
    });
  // Voice notes and photos (issue 20): the same registry, breakers, gate and usage rows as the replies.
  const mediaUnderstander = new MediaUnderstander({
    downloader: new MediaDownloader({
      apiBaseUrl: config.twilio.apiBaseUrl,
      requireHttps: config.outbound.requireHttps,
      allowedHosts: config.outbound.allowedHosts,
    }),
    models: createMediaModels({
      registry: providerRegistry,
      breaker: providerBreaker,
      usage: providerUsage,
      gate: providerGate,
      logger,
      metrics,
    }),
    messages: repositories.messages,
    logger,
  });
  const agent = new Agent(repositories.messages, replies, { historyLimit: DEFAULT_HISTORY_LIMIT }, knowledgeSearch);
  const routingFeedback = new RoutingFeedback(repositories.routingPosteriors, repositories.conversations, posteriors);
  const feedback = new InteractionFeedbackService(repositories.feedback, repositories.interactions, routingFeedback);
  const webhooks = createWebhookSender(config.outbound, encryptionKey, logger, overrides.webhookBackoff);
  const handoffs = new HandoffService(repositories.conversations, feedback, logger, webhooks, now);
  const conversations = new ConversationService(
    repositories.conversations,
    repositories.messages,
    sender,
    tenants,
    {
      interactions: repositories.interactions,
      describe: (tenantId, chunkIds) => describePassages(repositories.knowledgeChunks, tenantId, chunkIds),
    },
    now,
  );
  const tokenKey = feedbackTokenKey(encryptionKey);
  const feedbackTurns = new FeedbackTurnHandler(new AgentTurnHandler(agent, mediaUnderstander), {
    messages: repositories.messages,
    interactions: repositories.interactions,
    feedback,
    contentTemplates,
    tokenKey,
    logger,
  });
  // Consent and ownership come first: an opted-out customer or an agent's conversation gets nothing from the bot.
  const turns = new ConversationRulesTurnHandler(feedbackTurns, now);
  const typing = new TypingIndicator(transports, metrics, logger);
  const processor = new InboxProcessor(manager, repositories, queue, tenants, turns, sender, handoffs, logger, {
    concurrency: config.inbox.concurrency,
    tenantShare: config.inbox.tenantShare,
    pollIntervalMs: config.inbox.pollIntervalMs,
    typing,
    // The agent's history comes with the turn's own load statement.
    historyLimit: DEFAULT_HISTORY_LIMIT,
  });
  const feedbackQueries = new FeedbackQueryService(repositories.feedback, manager);
  const corrections = new CorrectionService({ ...repositories, tenants, dataSource, passages: questionAnswerPassages });
  const deliveryStatus = new DeliveryStatusService(repositories.messages, repositories.conversations);
  const routingInsights = new RoutingInsightsService(manager, tenants, loadDefaultCatalog());
  const jobRunner = new JobRunner(dataSource, logger);
  const scheduler = new Scheduler(
    scheduledJobs(jobRunner, config.jobs, logger, webhooks, {
      tenants,
      onQueued: () => knowledgeWorker.wake(),
    }),
    logger,
  );
  return {
    config,
    logger,
    dataSource,
    repositories,
    tenants,
    apiKeys,
    inbox,
    queue,
    transports,
    sender,
    embeddings,
    knowledgeSearch,
    documentIndexer,
    knowledgeWorker,
    knowledgeDocuments,
    questionAnswerPassages,
    replies,
    posteriors,
    tenantBreakers,
    agent,
    turns,
    processor,
    feedback,
    feedbackQueries,
    corrections,
    deliveryStatus,
    routingInsights,
    settings,
    feedbackTokenKey: tokenKey,
    handoffs,
    webhooks,
    contentTemplates,
    typing,
    conversations,
    now,
    metrics,
    jobRunner,
    scheduler,
  };
}
