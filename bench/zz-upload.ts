import { uploadToDevgraph } from '../src/devgraph/upload.js';
import { readGraphFile } from '../src/graph/graph-file.js';
import { HttpClient } from '../src/http/http-client.js';
import { Secrets } from '../src/secrets.js';
import { maxRssMb } from './child-measure.js';

const mb = (n: number) => Math.round(n / 1048576);
const t0 = performance.now();
const t = setInterval(() => {
  const m = process.memoryUsage();
  console.error(
    `${((performance.now() - t0) / 1000).toFixed(0)}s rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} ext ${mb(m.external)} ab ${mb(m.arrayBuffers)}`,
  );
}, 2000);
const read = await readGraphFile('/tmp/pub/graph.json');
if (!('graph' in read)) throw new Error('x');
console.error('read', maxRssMb());
const http = new HttpClient();
const log = {
  info: (m: string) => console.error(`${((performance.now() - t0) / 1000).toFixed(0)}s ${m}`),
  warn: (m: string) => console.error(m),
  debug: () => {},
};
const r = await uploadToDevgraph(read.graph, {
  url: process.argv[2]!,
  token: 'tok-1234',
  environment: 'env-1',
  http,
  secrets: new Secrets(),
  log,
  now: '2000-01-01T00:00:00Z',
  ...(process.argv[3] ? { pageSize: Number(process.argv[3]) } : {}),
});
console.error('done', maxRssMb(), r.ok, JSON.stringify(r.written), r.errors.slice(0, 2));
clearInterval(t);
await http.close();
