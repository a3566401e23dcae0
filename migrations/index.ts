/** Every migration in order. Listed explicitly so tsx, vitest and the compiled build all see the same set. */
import { Foundation1764000000000 } from './1764000000000-Foundation';
import { LlmLayer1764000100000 } from './1764000100000-LlmLayer';
import { InteractionFeedback1764000200000 } from './1764000200000-InteractionFeedback';
import { Corrections1764000300000 } from './1764000300000-Corrections';
import { Jobs1764000400000 } from './1764000400000-Jobs';
import { UsageCreatedAtIndex1764000400001 } from './1764000400001-UsageCreatedAtIndex';
import { MessageTenantThroughConversation1764000500000 } from './1764000500000-MessageTenantThroughConversation';
import { RoutingLearning1764000800000 } from './1764000800000-RoutingLearning';
import { SettingsApi1764001000000 } from './1764001000000-SettingsApi';
import { ConversationFlags1764001300000 } from './1764001300000-ConversationFlags';
import { CredentialBreakers1764001100000 } from './1764001100000-CredentialBreakers';
import { UsageCredentialIndex1764001100001 } from './1764001100001-UsageCredentialIndex';
import { ValidateMessageConversationTenant1764001200000 } from './1764001200000-ValidateMessageConversationTenant';
import { ForeignKeyIndexes1764001200100 } from './1764001200100-ForeignKeyIndexes';
import { QualityScoreTenths1764001400000 } from './1764001400000-QualityScoreTenths';
import { KnowledgeDocuments1764001500000 } from './1764001500000-KnowledgeDocuments';
import { MessageTranscribed1765100000000 } from './1765100000000-MessageTranscribed';
import { MessageBursts1765200000000 } from './1765200000000-MessageBursts';
import { ConsentAndOwnership1765200100000 } from './1765200100000-ConsentAndOwnership';
import { QuestionAnswerPassages1765300000000 } from './1765300000000-QuestionAnswerPassages';
import { ConversationRecencyIndex1765400000000 } from './1765400000000-ConversationRecencyIndex';
import { OptOutConfirmation1765500000000 } from './1765500000000-OptOutConfirmation';

export const MIGRATIONS = [
  Foundation1764000000000,
  LlmLayer1764000100000,
  InteractionFeedback1764000200000,
  Corrections1764000300000,
  Jobs1764000400000,
  UsageCreatedAtIndex1764000400001,
  MessageTenantThroughConversation1764000500000,
  RoutingLearning1764000800000,
  SettingsApi1764001000000,
  CredentialBreakers1764001100000,
  UsageCredentialIndex1764001100001,
  ValidateMessageConversationTenant1764001200000,
  ForeignKeyIndexes1764001200100,
  ConversationFlags1764001300000,
  QualityScoreTenths1764001400000,
  KnowledgeDocuments1764001500000,
  MessageTranscribed1765100000000,
  MessageBursts1765200000000,
  ConsentAndOwnership1765200100000,
  QuestionAnswerPassages1765300000000,
  ConversationRecencyIndex1765400000000,
  OptOutConfirmation1765500000000,
];
