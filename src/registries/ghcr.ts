// GitHub Container Registry.
import { type OpenAdapter, ociAdapter } from './registry-adapter.js';

/** Not yet vendor-specific: the plain OCI path. */
export const openGhcr: OpenAdapter = async (ctx) => ociAdapter(ctx, ctx.connect(ctx.credentials));
