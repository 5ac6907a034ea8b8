/**
 * Names and paths from the server or the disk are shown as text (React escapes them: M6), and
 * their invisible bidirectional controls are made visible, so a name such as
 * "invoice\u202Efdp.exe" cannot pass for "invoiceexe.pdf" (RTL override spoofing):
 *
 *   "invoice\u202Efdp.exe"  ->  "invoice[U+202E]fdp.exe"
 */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

export function shown(text: string): string {
  return text.replace(BIDI_CONTROLS, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}
