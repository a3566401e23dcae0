/** A tenant's knowledge settings with their defaults applied (the schema is tenants/tenant-settings.ts). */
import { KNOWLEDGE_TEXT_SEARCH_CONFIGS } from '../../migrations/1764001500000-KnowledgeDocuments';
import type { StoredTenantSettings } from '../tenants/tenant-settings';

export type KnowledgeLanguage = keyof typeof KNOWLEDGE_TEXT_SEARCH_CONFIGS;

export interface KnowledgeSettings {
  language: KnowledgeLanguage;
  /** The PostgreSQL text-search configuration of `language` (accents folded). */
  searchConfig: string;
  fallbackToHuman: boolean;
  sourceLinks: boolean;
}

/** The language Parley's fixed texts use implies the search language, unless knowledge.language says otherwise. */
const LANGUAGE_OF_TEXTS: Record<string, KnowledgeLanguage> = { en: 'english', es: 'spanish', pt: 'portuguese' };

/** The effective knowledge settings of a tenant. */
export function knowledgeSettingsOf(settings: Pick<StoredTenantSettings, 'knowledge' | 'language'>): KnowledgeSettings {
  const language = settings.knowledge?.language ?? (settings.language ? LANGUAGE_OF_TEXTS[settings.language] : undefined) ?? 'simple';
  return {
    language,
    searchConfig: KNOWLEDGE_TEXT_SEARCH_CONFIGS[language],
    fallbackToHuman: settings.knowledge?.fallbackToHuman ?? true,
    sourceLinks: settings.knowledge?.sourceLinks ?? false,
  };
}
