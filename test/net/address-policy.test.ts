import { describe, expect, it } from 'vitest';
import { forbiddenAddressReason, forbiddenNameReason, isIpLiteral } from '../../src/net/address-policy';

describe('forbiddenAddressReason', () => {
  const refused: Array<[string, string, RegExp]> = [
    ['loopback', '127.0.0.1', /loopback/],
    ['loopback, top of 127/8', '127.255.255.254', /loopback/],
    ['IPv6 loopback', '::1', /loopback/],
    ['RFC 1918 10/8', '10.1.2.3', /private/],
    ['RFC 1918 172.16/12', '172.31.255.255', /private/],
    ['RFC 1918 192.168/16', '192.168.0.1', /private/],
    ['unique local fc00::/7', 'fd12:3456::1', /uniqueLocal/],
    ['link-local', '169.254.10.20', /linkLocal/],
    ['cloud metadata (AWS, GCP, Azure)', '169.254.169.254', /linkLocal/],
    ['AWS metadata over IPv6', 'fd00:ec2::254', /uniqueLocal/],
    ['IPv6 link-local', 'fe80::1', /linkLocal/],
    ['IPv6 link-local with a zone', 'fe80::1%eth0', /linkLocal/],
    ['CGNAT 100.64/10', '100.64.0.1', /carrierGradeNat/],
    ['CGNAT top (Alibaba metadata 100.100.100.200 sits here)', '100.127.255.255', /carrierGradeNat/],
    ['unspecified', '0.0.0.0', /unspecified/],
    ['this network 0/8', '0.1.2.3', /unspecified/],
    ['IPv6 unspecified', '::', /unspecified/],
    ['multicast', '224.0.0.1', /multicast/],
    ['IPv6 multicast', 'ff02::1', /multicast/],
    ['broadcast', '255.255.255.255', /broadcast/],
    ['reserved 240/4', '240.0.0.1', /reserved/],
    ['documentation', '192.0.2.10', /reserved/],
    ['IPv6 documentation', '2001:db8::1', /reserved/],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1', /ipv4Mapped:loopback/],
    ['IPv4-mapped metadata', '::ffff:169.254.169.254', /ipv4Mapped:linkLocal/],
    ['IPv4-mapped private, hex form', '::ffff:a00:1', /ipv4Mapped:private/],
    ['IPv4-compatible loopback (deprecated), as the URL parser writes it', '::7f00:1', /reserved/],
    ['IPv4-compatible loopback, dotted (ipaddr.js reads it as mapped)', '::127.0.0.1', /ipv4Mapped:loopback|reserved/],
    ['NAT64 of a private address', '64:ff9b::a00:1', /nat64:private/],
    ['6to4 of loopback', '2002:7f00:1::1', /6to4:loopback/],
    ['Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2', /teredo|reserved/],
    ['not an address', 'example.com', /invalid/],
  ];
  for (const [name, address, reason] of refused) {
    it(`refuses ${name}: ${address}`, () => {
      expect(forbiddenAddressReason(address)).toMatch(reason);
    });
  }

  it('accepts public unicast addresses, also when mapped or translated', () => {
    for (const address of [
      '93.184.216.34',
      '8.8.8.8',
      '2606:4700:4700::1111',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      '2002:808:808::1',
      '[2606:4700::1]',
    ]) {
      expect(forbiddenAddressReason(address), address).toBeNull();
    }
  });

  it('draws the range edges where the RFCs do', () => {
    expect(forbiddenAddressReason('100.63.255.255')).toBeNull();
    expect(forbiddenAddressReason('100.128.0.0')).toBeNull();
    expect(forbiddenAddressReason('172.15.255.255')).toBeNull();
    expect(forbiddenAddressReason('172.32.0.0')).toBeNull();
    expect(forbiddenAddressReason('169.253.255.255')).toBeNull();
    expect(forbiddenAddressReason('169.255.0.0')).toBeNull();
  });
});

describe('forbiddenNameReason', () => {
  it('refuses local, private-use, metadata and single-label names', () => {
    for (const name of [
      'localhost',
      'LOCALHOST.',
      'api.localhost',
      'metadata.google.internal',
      'metadata',
      'printer.local',
      'db.internal',
      'nas.home.arpa',
      'intranet',
    ]) {
      expect(forbiddenNameReason(name), name).not.toBeNull();
    }
  });

  it('accepts public names', () => {
    for (const name of ['api.openai.com', 'generativelanguage.googleapis.com', 'hooks.example.com.'])
      expect(forbiddenNameReason(name), name).toBeNull();
  });
});

describe('isIpLiteral', () => {
  it('tells URL hostnames that are addresses from names', () => {
    expect(isIpLiteral('127.0.0.1')).toBe(true);
    expect(isIpLiteral('[::1]')).toBe(true);
    expect(isIpLiteral('example.com')).toBe(false);
  });
});
