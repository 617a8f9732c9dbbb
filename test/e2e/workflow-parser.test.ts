// action.yml and the workflows, read by @actions/workflow-parser: the parser, and the schemas of
// action.yml and of workflows, that GitHub's own services and its Actions language server use. What
// GitHub would refuse (an unknown key, a `using:` it has no runtime for, a malformed expression)
// fails here rather than on a user's first run. That the examples only use inputs and outputs
// action.yml declares is checked in example-workflows.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  convertWorkflowTemplate,
  NoOperationTraceWriter,
  parseWorkflow,
  type TemplateParseResult,
} from '@actions/workflow-parser';
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { codeBlocks, documentationFiles, root } from '../support/documentation.js';

const errorsOf = (result: TemplateParseResult) => result.context.errors.getErrors().map((e) => e.message);

const workflowFiles = [
  ...readdirSync(join(root, 'examples', 'workflows')).map((f) => `examples/workflows/${f}`),
  ...readdirSync(join(root, '.github', 'workflows')).map((f) => `.github/workflows/${f}`),
].filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));

/** The jobs written out in README.md and docs/, each made a whole workflow when it has no trigger. */
const documentedJobs = documentationFiles()
  .flatMap(codeBlocks)
  .filter((b) => b.lang === 'yaml' || b.lang === 'yml')
  .flatMap((b) => {
    const doc = parse(b.text) as unknown;
    if (!doc || typeof doc !== 'object' || !('jobs' in doc)) return [];
    return [
      { name: `${b.path}:${b.line}`, content: 'on' in doc ? b.text : `on: workflow_dispatch\n${b.text}` },
    ];
  });

describe('action.yml, as GitHub parses it', () => {
  const content = readFileSync(join(root, 'action.yml'), 'utf8');
  const result = parseAction({ name: 'action.yml', content }, new NoOperationTraceWriter());

  it('has no errors against the action schema', () => {
    expect(errorsOf(result)).toEqual([]);
  });

  it('is a Node action whose entry exists, with every input and output the YAML declares', () => {
    const action = convertActionTemplate(result.context, result.value!);
    expect(action.runs.using).toMatch(/^node\d+$/);
    const runs = action.runs as { main: string };
    expect(readFileSync(join(root, runs.main), 'utf8').length).toBeGreaterThan(0);
    const yaml = parse(content) as { inputs: object; outputs: object };
    expect(action.inputs?.map((i) => i.id)).toEqual(Object.keys(yaml.inputs));
    expect(action.outputs?.map((o) => o.id)).toEqual(Object.keys(yaml.outputs));
  });

  it('would be refused with a runtime GitHub does not have (the parser is not lenient)', () => {
    const broken = content.replace(/using: ['"]?node\d+['"]?/, 'using: node99');
    expect(broken).not.toBe(content);
    expect(
      errorsOf(parseAction({ name: 'action.yml', content: broken }, new NoOperationTraceWriter())),
    ).toEqual([expect.stringContaining("Unexpected value 'node99'")]);
  });
});

describe('workflows, as GitHub parses them', () => {
  it('finds the examples, the CI workflow and the README job', () => {
    expect(workflowFiles.filter((f) => f.startsWith('examples/')).length).toBeGreaterThanOrEqual(4);
    expect(workflowFiles).toContain('.github/workflows/ci.yml');
    expect(documentedJobs.some((j) => j.name.startsWith('README.md'))).toBe(true);
  });

  const all = [
    ...workflowFiles.map((name) => ({ name, content: readFileSync(join(root, name), 'utf8') })),
    ...documentedJobs,
  ];
  for (const file of all) {
    it(`${file.name}: no errors parsing or converting`, async () => {
      const result = parseWorkflow(file, new NoOperationTraceWriter());
      expect(errorsOf(result)).toEqual([]);
      const workflow = await convertWorkflowTemplate(result.context, result.value!);
      expect(workflow.errors ?? []).toEqual([]);
      expect(workflow.jobs.length).toBeGreaterThan(0);
    });
  }

  it('reports a misspelt key (the parser is not lenient)', () => {
    const result = parseWorkflow(
      { name: 'bad.yml', content: 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n' },
      new NoOperationTraceWriter(),
    );
    expect(errorsOf(result)).toEqual([expect.stringContaining("Unexpected value 'stepz'")]);
  });
});
