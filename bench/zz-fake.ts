import { startDevgraphFake } from '../test/support/fakes/devgraph-fake.js';

const f = await startDevgraphFake({ token: 'tok-1234', environment: 'env-1', recordBodies: false });
console.log(f.url);
setInterval(() => {}, 1 << 30);
