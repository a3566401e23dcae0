/** createApp(services): the express app without listen(), so tests drive it with supertest. */
import express, { Router } from 'express';
import { createConversationsRouter } from './conversations/conversations-router';
import { createDashboardApiRouter } from './dashboard/dashboard-api-router';
import { createDashboardPageRouter } from './dashboard/dashboard-page-router';
import { createInteractionEventsRouter } from './feedback/interaction-events-router';
import { createCorrectionsRouter } from './corrections/corrections-router';
import { createFeedbackRouter } from './feedback/feedback-router';
import { createFeedbackSubmitRouter, SUBMIT_PATH } from './feedback/feedback-submit-router';
import { isDatabaseReachable } from './db/data-source';
import { authenticate } from './http/auth';
import { errorHandler, notFoundHandler } from './http/errors';
import { createHealthRouter } from './http/health-router';
import { createMetricsRouter } from './http/metrics-router';
import { createSchemaRouter } from './http/openapi/schema-router';
import { createKnowledgeDocumentRouter } from './knowledge/document-router';
import { createKnowledgeRouter } from './knowledge/knowledge-router';
import type { Services } from './services';
import { createSettingsRouter } from './tenants/settings-router';
import { createProvidersRouter } from './tracking/providers-router';
import { createRoutingInsightsRouter } from './tracking/routing-insights-router';
import { createUsageRouter } from './tracking/usage-router';
import { createSimulatorRouter } from './whatsapp/simulator-router';
import { createWebhookRouter } from './whatsapp/webhook-router';

/** Builds the HTTP app. */
export function createApp(services: Services): express.Express {
  const { config, logger, dataSource } = services;
  const manager = dataSource.manager;
  const app = express();
  app.disable('x-powered-by');
  // Signatures are checked against PUBLIC_BASE_URL, so forwarded headers are never trusted for anything.
  app.set('trust proxy', false);

  app.use(createHealthRouter({ databaseReachable: () => isDatabaseReachable(dataSource) }));

  app.use(
    '/v1/webhooks/twilio',
    createWebhookRouter({
      tenants: services.tenants,
      deliveryStatus: services.deliveryStatus,
      inbox: services.inbox,
      publicBaseUrl: config.publicBaseUrl,
      logger,
      onAccepted: (conversationId, tenantId) => services.processor.wake({ conversationId, tenantId }),
      observeAck: (seconds, outcome) => services.metrics.observeWebhookAck(seconds, outcome),
    }),
  );
  app.use(createMetricsRouter(services.metrics, config.metricsToken));
  app.use('/schema', createSchemaRouter());
  app.use(
    '/v1/simulator',
    createSimulatorRouter({ messages: services.repositories.messages, tenants: services.tenants, publicBaseUrl: config.publicBaseUrl }),
  );

  app.use(
    SUBMIT_PATH,
    createFeedbackSubmitRouter({
      interactions: services.repositories.interactions,
      feedback: services.feedback,
      tokenKey: services.feedbackTokenKey,
    }),
  );

  const api = Router();
  api.use(authenticate(services.apiKeys));
  api.use(express.json({ limit: '1mb' }));
  api.use('/conversations', createConversationsRouter({ conversations: services.conversations }));
  api.use(
    '/interactions',
    createInteractionEventsRouter({ feedback: services.feedback, feedbackQueries: services.feedbackQueries, now: services.now }),
  );
  api.use('/providers', createProvidersRouter({ manager, breakers: services.tenantBreakers }));
  api.use('/providers', createUsageRouter({ manager, tenants: services.tenants }));
  api.use('/routing', createRoutingInsightsRouter({ insights: services.routingInsights }));
  api.use('/settings', createSettingsRouter({ settings: services.settings }));
  // Documents and search first: the entries router's /:id would take "documents" for an id.
  api.use('/knowledge', createKnowledgeDocumentRouter({ documents: services.knowledgeDocuments }));
  api.use('/knowledge', createKnowledgeRouter({ manager, passages: services.questionAnswerPassages }));
  api.use('/corrections', createCorrectionsRouter({ corrections: services.corrections }));
  api.use('/feedback', createFeedbackRouter({ feedbackQueries: services.feedbackQueries }));
  api.use(createDashboardApiRouter({ apiKeys: services.apiKeys, tenants: services.tenants, manager }));
  app.use('/v1/bot', api);
  app.use('/dashboard', createDashboardPageRouter());

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
