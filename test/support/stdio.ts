// What the code under test prints, kept instead of shown: the shells write straight to the streams.
import { vi } from 'vitest';

export interface Stdio {
  stdout: string;
  stderr: string;
}

/** Everything written to stdout and stderr from now until vi.restoreAllMocks(). */
export function captureStdio(): Stdio {
  const io: Stdio = { stdout: '', stderr: '' };
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    io.stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    io.stderr += String(chunk);
    return true;
  });
  return io;
}
