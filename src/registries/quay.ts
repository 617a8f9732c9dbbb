// Quay (quay.io and Red Hat Quay).
import { type OpenAdapter, ociAdapter } from './registry-adapter.js';

/** Not yet vendor-specific: the plain OCI path. */
export const openQuay: OpenAdapter = async (ctx) => ociAdapter(ctx, ctx.connect(ctx.credentials));
