/**
 * Consistent pseudonyms for file paths in a support bundle: the same name always becomes the
 * same pseudonym, so the shape of the tree and every mention of one file stay recognisable
 * while no name is shown.
 *
 *   "/docs/report.pdf"            -> "/n1/n2.pdf"     (the last short extension is kept)
 *   "/home/ann/Sync/docs/x.txt"   -> "/n3/n4/n5/n1/n6.txt"
 *   free text: known paths first (longest first), then anything shaped like an absolute path
 *   after a space, quote, '=', '(', '[' or ',' ("failed: /a/b" -> "failed: /n7/n8")
 */

const EXT = /\.[A-Za-z0-9]{1,5}$/;
const PATHLIKE = /(^|[\s"'=([,])(\/[^\s"'()[\],]+)/g;

export class Pseudonyms {
  readonly #names = new Map<string, string>();
  /** Pseudonyms handed out: met again in text already pseudonymised, they stay. */
  readonly #aliases = new Set<string>();
  #known: string[] = [];
  readonly #literals = new Map<string, string>();

  /**
   * Paths to look for in free text before the shape-based pass: disk paths, and names with
   * spaces, quotes, brackets or commas (which the shape-based pass would cut short).
   */
  addKnown(paths: Iterable<string>): void {
    const set = new Set(this.#known);
    for (const p of paths) if (p.length > 1 && p.startsWith('/')) set.add(p);
    this.#known = [...set].sort((a, b) => b.length - a.length);
  }

  /** Replaced as is before anything else (the account's URL by its pseudonymised form). */
  addLiteral(from: string, to: string): void {
    if (from.length > 0) this.#literals.set(from, to);
  }

  name(n: string): string {
    let alias = this.#names.get(n);
    if (alias === undefined) {
      const ext = EXT.exec(n)?.[0] ?? '';
      alias = `n${this.#names.size + 1}${ext.length < n.length ? ext : ''}`;
      this.#names.set(n, alias);
      this.#aliases.add(alias);
    }
    return alias;
  }

  path(p: string): string {
    return p
      .split('/')
      .map((seg) => (seg === '' || this.#aliases.has(seg) ? seg : this.name(seg)))
      .join('/');
  }

  /** `text` with every path in it replaced. */
  text(text: string): string {
    let out = text;
    for (const [from, to] of this.#literals) if (out.includes(from)) out = out.split(from).join(to);
    for (const k of this.#known) {
      if (!out.includes(k)) continue;
      // Whole paths only: "/root" is not replaced inside "/rootfs".
      out = out.replace(new RegExp(`${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![^/\\s"'()[\\],])`, 'g'), this.path(k));
    }
    return out.replace(PATHLIKE, (_m, lead: string, p: string) => `${lead}${this.path(p)}`);
  }

  /** Every string value in `value` (deeply) through text(). Keys are left alone. */
  deep<T>(value: T): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => this.deep(v)) as T;
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = this.deep(v);
      return out as T;
    }
    return value;
  }
}
