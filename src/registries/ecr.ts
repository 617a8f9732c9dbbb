// AWS ECR (private) and ECR Public.
import { type OpenAdapter, ociAdapter } from './registry-adapter.js';

/** Not yet vendor-specific: the plain OCI path. */
export const openEcr: OpenAdapter = async (ctx) => ociAdapter(ctx, ctx.connect(ctx.credentials));
