// A plain OCI registry (CNCF Distribution and anything that speaks its API).
import { type OpenAdapter, ociAdapter } from './registry-adapter.js';

/** Not yet vendor-specific: the plain OCI path. */
export const openPrivate: OpenAdapter = async (ctx) => ociAdapter(ctx, ctx.connect(ctx.credentials));
