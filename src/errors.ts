/** A problem with the user's configuration or arguments: the run cannot start. Shown verbatim. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems.length} problems in the configuration:\n- ${problems.join('\n- ')}`,
    );
    this.name = 'ConfigError';
  }
}

/**
 * A registry answered, or failed to answer, in a way that stops one listing or fetch. The message
 * names the registry and what was asked; it never carries a credential (URLs are built by us and
 * hold none).
 */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly details: { status?: number; code?: string; retryable?: boolean } = {},
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** Authentication or authorisation failed: a wrong password, a denied scope. */
export class AuthError extends RegistryError {
  override name = 'AuthError';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
