/**
 * Which network destinations a tenant-configured URL may reach: public unicast addresses only. Loopback, private
 * (RFC 1918, fc00::/7), link-local (169.254/16 with the cloud metadata address, fe80::/10), CGNAT (100.64/10),
 * unspecified, multicast, broadcast, documentation and reserved ranges are refused, also when wrapped in IPv6
 * (IPv4-mapped, IPv4-compatible, NAT64, 6to4). Names that only mean something inside a network are refused too.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/** Host names that never leave the local network or the cloud instance (checked after lower-casing). */
const FORBIDDEN_NAMES = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'kubernetes.default',
]);

/** Suffixes of special-use and private-use domains (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal). */
const FORBIDDEN_SUFFIXES = [
  '.localhost',
  '.local',
  '.localdomain',
  '.internal',
  '.intranet',
  '.lan',
  '.home.arpa',
  '.corp',
  '.svc',
  '.cluster.local',
];

/** Why an address may not be connected to (the ipaddr.js range name, e.g. 'loopback'), or null when it may. */
export function forbiddenAddressReason(address: string): string | null {
  const literal = unbracketed(address);
  // A zone id (fe80::1%eth0) only ever qualifies a link-local address.
  if (literal.includes('%')) return 'linkLocal';
  if (!ipaddr.isValid(literal)) return 'invalid';
  const parsed = ipaddr.parse(literal);
  if (parsed.kind() === 'ipv4') return ipv4Reason(parsed as ipaddr.IPv4);
  return ipv6Reason(parsed as ipaddr.IPv6);
}

function ipv4Reason(address: ipaddr.IPv4): string | null {
  const range = address.range();
  return range === 'unicast' ? null : range;
}

function ipv6Reason(address: ipaddr.IPv6): string | null {
  const range = address.range();
  // Addresses that carry an IPv4 address are judged by it: ::ffff:127.0.0.1 is loopback.
  if (range === 'ipv4Mapped') return prefixed('ipv4Mapped', ipv4Reason(address.toIPv4Address()));
  if (range === 'rfc6052' && address.match(ipaddr.IPv6.parseCIDR('64:ff9b::/96')))
    return prefixed('nat64', ipv4Reason(embeddedIPv4(address, 6)));
  if (range === '6to4') return prefixed('6to4', ipv4Reason(embeddedIPv4(address, 1)));
  // ::/8 is reserved; it holds the deprecated IPv4-compatible form (::127.0.0.1), which ipaddr.js calls unicast.
  if (address.parts[0] === 0 && address.parts[1] === 0) return range === 'unicast' ? 'reserved' : range;
  return range === 'unicast' ? null : range;
}

function embeddedIPv4(address: ipaddr.IPv6, firstPart: number): ipaddr.IPv4 {
  const high = address.parts[firstPart];
  const low = address.parts[firstPart + 1];
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function prefixed(wrapper: string, inner: string | null): string | null {
  return inner === null ? null : `${wrapper}:${inner}`;
}

/** True when `host` (a URL's hostname, brackets allowed) is an IP address literal; URL parsing has normalised 0x7f.1 and the like. */
export function isIpLiteral(host: string): boolean {
  return net.isIP(unbracketed(host)) !== 0;
}

/** A URL hostname without the brackets of an IPv6 literal. */
export function unbracketed(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Why a host name may not be used (a local, private-use or metadata name, or a single label that a resolver's
 * search list would complete to an internal host), or null. IP literals are for forbiddenAddressReason.
 */
export function forbiddenNameReason(hostname: string): string | null {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === '') return 'empty host';
  if (FORBIDDEN_NAMES.has(name)) return `internal name ${name}`;
  const suffix = FORBIDDEN_SUFFIXES.find((candidate) => name.endsWith(candidate));
  if (suffix) return `internal domain ${suffix}`;
  if (!name.includes('.')) return 'single-label host name';
  return null;
}
