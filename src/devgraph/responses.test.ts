import { describe, expect, it } from 'vitest';
import { readLists } from './responses.js';

const read = (text: string) => readLists(Buffer.from(text), ['primary_entities', 'relations']);

describe('readLists', () => {
  it('hands out the items of the lists asked for and passes over the rest', () => {
    const answer = {
      related_entities: [{ kind: 'X', spec: { note: 'a "quoted" ] } [ {' } }],
      primary_entities: [{ kind: 'DockerImage', metadata: { name: 'a\\b"c', labels: { k: '}' } } }, 3, null],
      total: 2,
      relations: [],
      other: 'text with [ and {',
    };
    expect(read(JSON.stringify(answer, null, 2))).toEqual({
      lists: { primary_entities: answer.primary_entities, relations: [] },
    });
    expect(read(JSON.stringify(answer))).toEqual({
      lists: { primary_entities: answer.primary_entities, relations: [] },
    });
  });

  it('reads escaped member names, and leaves a missing or null list undefined', () => {
    expect(read('{"primary\\u005fentities":[1],"relations":null}')).toEqual({
      lists: { primary_entities: [1] },
    });
    expect(read(' { } ')).toEqual({ lists: {} });
  });

  it('names what is wrong with an answer that is not a JSON object with lists', () => {
    expect(read('')).toEqual({ problem: 'empty' });
    expect(read('[1]')).toEqual({ problem: 'not a JSON object' });
    expect(read('{"relations":{"a":1}}')).toEqual({ problem: 'relations is not a list' });
    for (const broken of [
      '<html>',
      '{"relations":[1,2}',
      '{"relations":[1,2]',
      '{"relations":[1]} trailing',
      '{"relations":[{"a":1},]}',
      '{"relations":[tru]}',
      '{"other":"unterminated}',
      '{"other":[1,2}',
    ]) {
      const r = read(broken);
      expect(r, broken).toHaveProperty('problem');
      expect((r as { problem: string }).problem, broken).toMatch(/^not JSON \(/);
    }
  });
});
