/**
 * Every credential we read or mint is registered here the moment we have it. The action also
 * forwards it to `core.setSecret` (the `onSecret` hook) so GitHub masks it in the log; the CLI
 * must not print `::add-mask::` lines, so it only redacts.
 */
export class Secrets {
  private readonly values = new Set<string>();

  constructor(private readonly onSecret: (value: string) => void = () => {}) {}

  add(value: string | undefined): void {
    // Very short values would mask ordinary words all over the log; they are not real secrets.
    if (!value || value.length < 4 || this.values.has(value)) return;
    this.values.add(value);
    this.onSecret(value);
    const b64 = Buffer.from(value).toString('base64');
    if (!this.values.has(b64)) {
      this.values.add(b64);
      this.onSecret(b64);
    }
  }

  redact(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  }
}
