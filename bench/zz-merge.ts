import { readShardGraphs, runMerge } from '../src/run-merge.js';
import { Secrets } from '../src/secrets.js';
import { hashGraph, maxRssMb } from './child-measure.js';

const mb = (n: number) => Math.round(n / 1048576);
const t = setInterval(() => {
  const m = process.memoryUsage();
  console.error(
    `rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} ext ${mb(m.external)} ab ${mb(m.arrayBuffers)}`,
  );
}, 1000);
const shards = Array.from({ length: 10 }, (_, i) => `/tmp/pub/shard-${i + 1}.json`);
const files = await readShardGraphs(shards, 'merge');
console.error('read', maxRssMb());
const secrets = new Secrets();
const result = runMerge(files, { secrets, field: 'merge' });
console.error('merged', maxRssMb());
const sha = await hashGraph(result.graph, secrets, '/tmp/pub/merged.json');
console.error('written', maxRssMb(), sha);
clearInterval(t);
