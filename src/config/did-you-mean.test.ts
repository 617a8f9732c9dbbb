import { describe, expect, it } from 'vitest';
import { didYouMean } from './did-you-mean.js';

const CONFIG_KEYS = [
  'namespace',
  'registry_type',
  'api_url',
  'username',
  'password',
  'token',
  'timeout',
  'selectors',
];
const SELECTOR_KEYS = ['namespace_pattern', 'repository_pattern', 'include_tags', 'exclude_tags', 'max_tags'];

describe('didYouMean', () => {
  it.each<[string, readonly string[], string | undefined]>([
    ['selector', CONFIG_KEYS, 'selectors'],
    ['Selectors', CONFIG_KEYS, 'selectors'],
    ['timout', CONFIG_KEYS, 'timeout'],
    ['pasword', CONFIG_KEYS, 'password'],
    ['apiurl', CONFIG_KEYS, 'api_url'],
    ['api-url', CONFIG_KEYS, 'api_url'],
    ['registry-type', CONFIG_KEYS, 'registry_type'],
    ['max_tag', SELECTOR_KEYS, 'max_tags'],
    ['maxtags', SELECTOR_KEYS, 'max_tags'],
    ['include_tag', SELECTOR_KEYS, 'include_tags'],
    ['exclude-tags', SELECTOR_KEYS, 'exclude_tags'],
    ['repo_pattern', SELECTOR_KEYS, undefined],
    ['completely_unrelated', CONFIG_KEYS, undefined],
    ['x', CONFIG_KEYS, undefined],
    ['selector', [], undefined],
  ])('%j → %j', (word, candidates, expected) => {
    expect(didYouMean(word, candidates)).toBe(expected);
  });

  it('prefers the first of equally close candidates', () => {
    expect(didYouMean('ab', ['ac', 'ad'])).toBe('ac');
  });
});
