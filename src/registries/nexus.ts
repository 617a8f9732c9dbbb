// Sonatype Nexus Repository.
import { type OpenAdapter, ociAdapter } from './registry-adapter.js';

/** Not yet vendor-specific: the plain OCI path. */
export const openNexus: OpenAdapter = async (ctx) => ociAdapter(ctx, ctx.connect(ctx.credentials));
