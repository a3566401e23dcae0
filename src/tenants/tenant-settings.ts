/**
 * The one schema of a tenant's settings: every setting Parley reads, validated on every write (the settings API
 * and CLI refuse an invalid document with field-level messages) and when a tenant is loaded. Stored settings are
 * kept as written (defaults are applied when read, so a default can change with a release).
 *
 * Settings that reach the database any other way (an operator's SQL, an older release) may be invalid. Each
 * section is then judged on its own, and an invalid one never widens what the tenant may spend or which providers
 * and URLs it may use: it falls back to the most restrictive safe value (the offline answerer for `llm`, no call
 * for a webhook URL, no buttons, the default texts) and the problem is reported (log, metric, dashboard).
 */
import { z } from 'zod';
import { safeText } from '../http/safe-text';
import { routingPolicySchema } from '../llm/routing-policy';
import { checkTenantUrl, type TenantUrlPolicy, tenantUrlSchema } from '../net/tenant-url';

/** Languages Parley's own fixed texts come in (handoff notices, media replies); the model answers in the customer's. */
export const SETTINGS_LANGUAGES = ['en', 'es', 'pt'] as const;

/** The text-search languages of a tenant's knowledge (PostgreSQL configurations, accents folded). */
export const KNOWLEDGE_LANGUAGES = ['english', 'spanish', 'portuguese', 'simple'] as const;

/** Knowledge retrieval and grounding (knowledge/knowledge-settings.ts applies the defaults). */
const knowledgeSettingsSchema = z
  .object({
    /** Stemming and stop words of the keyword leg; default from `language` (en, es, pt), else simple. */
    language: z.enum(KNOWLEDGE_LANGUAGES),
    /** When nothing relevant is found, say so and offer a person instead of letting the model answer (default true). */
    fallbackToHuman: z.boolean(),
    /** Append a short source link (the page a passage came from) to WhatsApp replies (default false). */
    sourceLinks: z.boolean(),
  })
  .partial()
  .strict();

/** Twilio Content API SIDs are HX + 32 hex characters. */
const contentSid = z.string().regex(/^HX[0-9a-fA-F]{32}$/, 'must be a Content SID (HX followed by 32 hex characters)');

const feedbackButtonsSchema = z.union([z.enum(['always', 'never']), z.object({ everyNth: z.number().int().min(1).max(100) }).strict()]);

/** A customer's message that stops (or resumes) messages: matched whole, ignoring case, accents and spaces. */
const keyword = safeText().trim().min(1).max(40);

/**
 * How Parley behaves on WhatsApp for the tenant (docs/whatsapp-conversations.md). Every member optional: an absent
 * one takes the platform default.
 */
const whatsappSettingsSchema = z
  .object({
    /** Messages within quietMs of each other are answered together, once quiet that long or maxMs after the first; 0: off. */
    burst: z
      .object({ quietMs: z.number().int().min(0).max(10_000), maxMs: z.number().int().min(0).max(30_000) })
      .strict()
      .refine((burst) => burst.maxMs >= burst.quietMs, { message: 'maxMs must be at least quietMs', path: ['maxMs'] }),
    /** Show WhatsApp's typing indicator while a turn runs (default true). */
    typingIndicator: z.boolean(),
    /** Extra opt-out words, besides STOP, UNSUBSCRIBE, PARAR, SAIR and BAJA. */
    optOutKeywords: z.array(keyword).max(50),
    /** Minutes after a human agent's last message when the bot answers the conversation again (default 60). */
    agentIdleMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60),
    /**
     * The approved template an agent's message goes through outside the 24-hour window: a Content SID, and its
     * variables ("{{body}}" in a value stands for the agent's text). Without it, such a message is refused (409).
     */
    outsideWindowTemplate: z
      .object({
        contentSid,
        variables: z.record(z.string().regex(/^[0-9]{1,2}$/, 'must be a variable number such as 1'), safeText().max(1000)),
      })
      .strict(),
  })
  .partial()
  .strict();

/** A budget may be written as a number; it is stored as the exact decimal string the router compares. */
const budgetInput = z.union([
  z.string().regex(/^\d{1,12}(\.\d{1,6})?$/, 'must be a decimal amount in dollars, such as "20" or "12.50"'),
  z
    .number()
    .nonnegative()
    .max(1e12)
    .refine((value) => Number.isFinite(value) && Math.round(value * 1e6) === value * 1e6, 'must have at most 6 decimals')
    .transform((value) => String(value)),
]);

/**
 * The routing settings: the routing policy's own schema with every URL checked for the tenant. `strict` (writes)
 * also refuses keys the policy does not have; reading stored settings ignores them instead (a key an older release
 * knew, such as thresholds.simple, must not switch a tenant to offline answers).
 */
function llmSettingsSchema(policy: TenantUrlPolicy, strict: boolean) {
  const urlIssue = (value: string | undefined, path: Array<string | number>, context: z.RefinementCtx) => {
    if (value === undefined) return;
    const checked = checkTenantUrl(value, policy);
    if (!checked.ok) context.addIssue({ code: 'custom', message: checked.reason, path });
  };
  return z
    .record(z.string(), z.unknown())
    .superRefine((value, context) => {
      const known = new Set(Object.keys(routingPolicySchema.shape));
      if (strict)
        for (const key of Object.keys(value))
          if (!known.has(key)) context.addIssue({ code: 'custom', message: 'is not a routing setting', path: [key] });
      const input = {
        ...value,
        ...(value.monthlyBudgetUsd !== undefined
          ? { monthlyBudgetUsd: budgetInput.safeParse(value.monthlyBudgetUsd).data ?? value.monthlyBudgetUsd }
          : {}),
      };
      const parsed = routingPolicySchema.safeParse(input);
      if (!parsed.success)
        for (const issue of parsed.error.issues) context.addIssue({ ...issue, code: 'custom', message: issue.message, path: issue.path });
      urlIssue(value.openaiBaseUrl as string | undefined, ['openaiBaseUrl'], context);
      urlIssue(value.geminiBaseUrl as string | undefined, ['geminiBaseUrl'], context);
      if (Array.isArray(value.compatibleProviders)) {
        for (const [index, provider] of value.compatibleProviders.entries()) {
          urlIssue((provider as { baseUrl?: string })?.baseUrl, ['compatibleProviders', index, 'baseUrl'], context);
        }
      }
    })
    .transform(
      (value): LlmSettings =>
        value.monthlyBudgetUsd === undefined ? value : { ...value, monthlyBudgetUsd: budgetInput.parse(value.monthlyBudgetUsd) },
    );
}

/** Stored routing settings: the routing policy's input, the budget always a decimal string. */
export type LlmSettings = Omit<z.input<typeof routingPolicySchema>, 'monthlyBudgetUsd'> & { monthlyBudgetUsd?: string };

/** The schema of each settings section, for a tenant-URL policy (https is required in production). */
export function settingsSectionSchemas(policy: TenantUrlPolicy, options: { strict?: boolean } = {}) {
  const url = tenantUrlSchema(policy);
  return {
    /** Free text the agent's system prompt starts from (the business's voice and rules). */
    systemPrompt: safeText().trim().min(1).max(8000),
    /** The language of Parley's own fixed texts. */
    language: z.enum(SETTINGS_LANGUAGES),
    /** Days of raw provider usage kept; daily summaries are kept. */
    retentionDays: z.number().int().min(1).max(3650),
    /** Where provider-health alerts are POSTed (signed), once per state change. */
    alertWebhookUrl: url,
    /** When replies carry 👍/👎 buttons: always (default), every Nth reply of a conversation, or never. */
    feedbackButtons: feedbackButtonsSchema,
    /** Content SIDs the tenant made itself, by Parley's template name (feedback, handoff_offer); they win over Parley's. */
    contentSids: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a template name such as feedback'), contentSid),
    /** Told to the customer when a person takes over. */
    handoffMessage: safeText().trim().min(1).max(1000),
    /** POSTed (signed) when a conversation is handed to a person. */
    handoffWebhookUrl: url,
    /** When true, a correction must be approved by someone other than its author. */
    forbidSelfApproval: z.boolean(),
    /** WhatsApp behaviour: bursts, typing indicator, opt-out words, agent ownership, the 24-hour window template. */
    whatsapp: whatsappSettingsSchema,
    /** Routing: quality knob, exploration, tiers, budget, providers (llm/routing-policy.ts). */
    llm: llmSettingsSchema(policy, options.strict ?? true),
    /** Knowledge search language, the "I do not know" fallback, source links. */
    knowledge: knowledgeSettingsSchema,
  };
}

export type SettingsSections = ReturnType<typeof settingsSectionSchemas>;
export type SettingName = keyof SettingsSections;

/** The settings a tenant may store: every section optional, nothing else. */
export function tenantSettingsSchema(policy: TenantUrlPolicy) {
  return z.object(settingsSectionSchemas(policy)).partial().strict();
}

export type TenantSettingsInput = z.input<ReturnType<typeof tenantSettingsSchema>>;
export type StoredTenantSettings = z.output<ReturnType<typeof tenantSettingsSchema>>;

/** An invalid stored section and what Parley does instead. */
export interface SettingsProblem {
  setting: string;
  message: string;
  /** The restrictive value used in its place. */
  fallback: string;
}

/** The most restrictive safe value of each section, used when its stored value is invalid. */
const RESTRICTIVE: { [Name in SettingName]: { value: StoredTenantSettings[Name]; description: string } } = {
  // No provider but the offline answerer: spends nothing, calls nobody.
  llm: { value: { enabledProviders: [] }, description: 'offline answers only (no model provider is called)' },
  alertWebhookUrl: { value: undefined, description: 'no alert webhook is called' },
  handoffWebhookUrl: { value: undefined, description: 'no handoff webhook is called' },
  feedbackButtons: { value: 'never', description: 'no feedback buttons' },
  contentSids: { value: undefined, description: "Parley's own content templates" },
  systemPrompt: { value: undefined, description: 'the default system prompt' },
  handoffMessage: { value: undefined, description: 'the default handoff message' },
  language: { value: undefined, description: 'English' },
  retentionDays: { value: undefined, description: 'the platform default retention' },
  whatsapp: { value: undefined, description: 'the default WhatsApp behaviour (no template outside the 24-hour window)' },
  forbidSelfApproval: { value: true, description: 'corrections need another person to approve them' },
  knowledge: { value: undefined, description: 'the default knowledge settings (says when it does not know, no source links)' },
};

/**
 * The settings to act on from a stored document: valid sections as stored, invalid ones replaced by their
 * restrictive value and reported, unknown keys ignored (and reported).
 */
export function effectiveTenantSettings(
  stored: unknown,
  policy: TenantUrlPolicy,
): { settings: StoredTenantSettings; problems: SettingsProblem[] } {
  const sections = settingsSectionSchemas(policy, { strict: false });
  const settings: Record<string, unknown> = {};
  const problems: SettingsProblem[] = [];
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) {
    if (stored !== null && stored !== undefined) {
      problems.push({
        setting: '(all)',
        message: 'settings are not a JSON object',
        fallback: 'every setting at its most restrictive value',
      });
    }
    for (const [name, restrictive] of Object.entries(RESTRICTIVE)) if (restrictive.value !== undefined) settings[name] = restrictive.value;
    return { settings: settings as StoredTenantSettings, problems };
  }
  for (const [name, value] of Object.entries(stored)) {
    if (value === undefined) continue;
    const schema = sections[name as SettingName];
    if (!schema) {
      problems.push({ setting: name, message: 'is not a setting Parley knows', fallback: 'ignored' });
      continue;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) {
      settings[name] = parsed.data;
      continue;
    }
    const restrictive = RESTRICTIVE[name as SettingName];
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${name}.${issue.path.join('.')}` : name;
    problems.push({ setting: where, message: issue?.message ?? 'is invalid', fallback: restrictive.description });
    if (restrictive.value !== undefined) settings[name] = restrictive.value;
  }
  return { settings: settings as StoredTenantSettings, problems };
}

/**
 * RFC 7396 JSON merge patch: objects merge member by member, null removes a member, anything else (arrays
 * included) replaces. Returns a new document; neither argument is changed.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = applyMergePatch(result[name], value);
  }
  return result;
}

/** The dotted paths a merge patch touches (for the audit log): objects are descended, leaves are named. */
export function patchedFields(patch: unknown, prefix = ''): string[] {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return prefix ? [prefix] : [];
  const fields: string[] = [];
  for (const [name, value] of Object.entries(patch)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0)
      fields.push(...patchedFields(value, path));
    else fields.push(path);
  }
  return fields;
}
