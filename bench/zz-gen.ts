import { writeGraphs } from './publish-scale.js';

const r = await writeGraphs('/tmp/pub', (m) => console.error(m));
console.log(JSON.stringify(r));
