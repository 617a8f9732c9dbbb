import { describe, expect, it } from 'vitest';
import { resolveRegistryType, vendorOfHost } from './registry-hosts.js';

describe('vendorOfHost', () => {
  it.each([
    ['docker.io', 'docker-hub'],
    ['registry-1.docker.io', 'docker-hub'],
    ['INDEX.DOCKER.IO', 'docker-hub'],
    ['ghcr.io', 'ghcr'],
    ['quay.io', 'quay'],
    ['public.ecr.aws', 'ecr'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'ecr'],
    ['123456789012.dkr-ecr.us-east-1.on.aws', 'ecr'],
    ['gcr.io', 'gcr'],
    ['eu.gcr.io', 'gcr'],
    ['europe-west1-docker.pkg.dev', 'gcr'],
    ['myregistry.azurecr.io', 'acr'],
    ['myregistry.azurecr.cn', 'acr'],
  ])('%s is %s', (host, type) => {
    expect(vendorOfHost(host)).toBe(type);
  });

  it.each([
    'registry.example.com',
    'localhost',
    '127.0.0.1',
    'mirror.gcr.io',
    'ghcr.io.example.com',
    'notquay.io',
    'azurecr.io.example.com',
    'harbor.example.com',
  ])('%s is no vendor host', (host) => {
    expect(vendorOfHost(host)).toBeUndefined();
  });
});

describe('resolveRegistryType', () => {
  it('keeps a registry_type that is set, whatever the host', () => {
    expect(resolveRegistryType('harbor', 'https://ghcr.io', false)).toEqual({ type: 'harbor' });
  });

  it('is Docker Hub without api_url, or with hub_url (a Hub mirror), or on a Hub host, with nothing to say', () => {
    expect(resolveRegistryType(undefined, undefined, false)).toEqual({ type: 'docker-hub' });
    expect(resolveRegistryType(undefined, 'https://hub-mirror.example.com', true)).toEqual({
      type: 'docker-hub',
    });
    expect(resolveRegistryType(undefined, 'https://registry-1.docker.io', false)).toEqual({
      type: 'docker-hub',
    });
  });

  it('says which type a vendor host or another host gave', () => {
    expect(resolveRegistryType(undefined, 'https://ghcr.io', false)).toEqual({
      type: 'ghcr',
      note: "registry_type not set: ghcr from api_url's host ghcr.io; set registry_type to choose another",
    });
    const plain = resolveRegistryType(undefined, 'http://127.0.0.1:5000', false);
    expect(plain.type).toBe('private');
    expect(plain.note).toMatch(
      /^registry_type not set: private \(a plain OCI registry; .*\) from api_url's host 127\.0\.0\.1:5000;/,
    );
  });
});
