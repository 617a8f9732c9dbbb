/** Where progress and warnings go: stderr for the CLI, the Actions log for the action. */
export interface Log {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export const silentLog: Log = { info() {}, warn() {}, debug() {} };
