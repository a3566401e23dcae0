/**
 * Validation of tenant-configurable URLs (model base URLs, webhook URLs, later crawl roots), shared by the settings
 * API at write time and by the safe HTTP client on every request and redirect. Write-time checks are a courtesy
 * (a clear error when saving); the client's connect-time address check is what actually protects.
 */
import dns from 'node:dns';
import { z } from 'zod';
import { forbiddenAddressReason, forbiddenNameReason, isIpLiteral, unbracketed } from './address-policy';

export interface TenantUrlPolicy {
  /** Production: https only (an allowlisted host may still use http). */
  requireHttps: boolean;
  /** Hosts the operator trusts explicitly ("host:port" or "host" for every port): a local model server, a test's fake. */
  allowedHosts?: readonly string[];
}

export type TenantUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** One address a name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address the system resolver gives (the same call net.connect makes). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

const MAX_URL_LENGTH = 2048;

/** The system resolver: getaddrinfo, every address, in the resolver's order. */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

/** Parses OUTBOUND_ALLOWED_HOSTS-style entries ("host:port", "host", "[::1]:8080"); null for a malformed entry. */
export function parseAllowedHost(entry: string): { hostname: string; port: string | undefined } | null {
  const trimmed = entry.trim().toLowerCase();
  if (trimmed === '' || /[/?#@\s]/.test(trimmed)) return null;
  try {
    const url = new URL(`http://${trimmed}`);
    const explicitPort = /:\d+$/.test(trimmed) ? trimmed.slice(trimmed.lastIndexOf(':') + 1) : undefined;
    return { hostname: url.hostname, port: explicitPort === undefined ? undefined : String(Number(explicitPort)) };
  } catch {
    return null;
  }
}

/** The port a URL connects to. */
export function effectivePort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/** True when the operator listed this URL's host (with its port, or with no port for every port). */
export function isAllowedHost(url: URL, allowedHosts: readonly string[] | undefined): boolean {
  if (!allowedHosts || allowedHosts.length === 0) return false;
  const hostname = url.hostname.toLowerCase();
  const port = effectivePort(url);
  return allowedHosts.some((entry) => {
    const parsed = parseAllowedHost(entry);
    return parsed !== null && parsed.hostname === hostname && (parsed.port === undefined || parsed.port === port);
  });
}

/**
 * Checks a tenant URL without resolving it: http(s) only and https in production, no credentials, no fragment-only
 * tricks, and a host that is neither an internal name nor an IP literal in a forbidden range.
 */
export function checkTenantUrl(value: string, policy: TenantUrlPolicy): TenantUrlCheck {
  if (value.length > MAX_URL_LENGTH) return { ok: false, reason: `must be at most ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'must be an absolute URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'must use https' };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'must not contain a user name or password' };
  const allowed = isAllowedHost(url, policy.allowedHosts);
  if (url.protocol === 'http:' && policy.requireHttps && !allowed) return { ok: false, reason: 'must use https' };
  if (allowed) return { ok: true, url };
  if (isIpLiteral(url.hostname)) {
    const reason = forbiddenAddressReason(unbracketed(url.hostname));
    return reason ? { ok: false, reason: `must not point to a ${reason} address` } : { ok: true, url };
  }
  const nameReason = forbiddenNameReason(url.hostname);
  return nameReason ? { ok: false, reason: `must not point to an ${nameReason}` } : { ok: true, url };
}

/**
 * checkTenantUrl, then resolves the name and checks every address: a settings API can refuse a name that points
 * inside the network today. It proves nothing about tomorrow's answer (DNS rebinding): the client checks again
 * on every connection.
 */
export async function checkTenantUrlAddresses(value: string, policy: TenantUrlPolicy & { resolve?: Resolver }): Promise<TenantUrlCheck> {
  const checked = checkTenantUrl(value, policy);
  if (!checked.ok || isIpLiteral(checked.url.hostname) || isAllowedHost(checked.url, policy.allowedHosts)) return checked;
  let addresses: ResolvedAddress[];
  try {
    addresses = await (policy.resolve ?? systemResolver)(checked.url.hostname);
  } catch {
    return { ok: false, reason: 'host name does not resolve' };
  }
  if (addresses.length === 0) return { ok: false, reason: 'host name does not resolve' };
  for (const { address } of addresses) {
    const reason = forbiddenAddressReason(address);
    if (reason) return { ok: false, reason: `host name resolves to a ${reason} address` };
  }
  return checked;
}

/** A zod schema for a tenant URL setting: the settings API reports the reason on the field. */
export function tenantUrlSchema(policy: TenantUrlPolicy) {
  return z.string().superRefine((value, context) => {
    const checked = checkTenantUrl(value, policy);
    if (!checked.ok) context.addIssue({ code: 'custom', message: checked.reason });
  });
}
