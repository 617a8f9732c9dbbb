// Google Container Registry and Artifact Registry.
import { type OpenAdapter, ociAdapter } from './registry-adapter.js';

/** Not yet vendor-specific: the plain OCI path. */
export const openGcr: OpenAdapter = async (ctx) => ociAdapter(ctx, ctx.connect(ctx.credentials));
