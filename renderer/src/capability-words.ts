/**
 * What a server lacks, in plain words (issue 7/8: "plain words for what the server lacks"),
 * from the capability probe of `account.test`.
 */
import type { Capabilities } from '../../app/api/remote.js';

export interface CapabilityLine {
  ok: boolean;
  text: string;
}

export function capabilityLines(c: Capabilities, remote: string): CapabilityLine[] {
  const local = remote.startsWith('file:');
  const lines: CapabilityLine[] = [
    c.ranges
      ? { ok: true, text: 'Sends parts of files on request: big downloads resume and files open before they are whole.' }
      : { ok: false, text: 'Does not send parts of files: big files download whole, an interrupted download starts again from zero, and opening an online-only file waits for all of it.' },
    c.etags === 'strong'
      ? { ok: true, text: 'Gives each file version a strong tag: changes are detected exactly.' }
      : c.etags === 'weak'
        ? { ok: false, text: 'Gives only weak version tags: changes are checked by size and date, which can miss an edit made within the same second.' }
        : { ok: false, text: 'Gives no version tags: changes are checked by size and date only.' },
    c.ifMatchOnPut
      ? { ok: true, text: 'Refuses an upload over a version someone else just changed: nobody’s edit is overwritten.' }
      : { ok: false, text: 'Does not check versions on upload: an edit made elsewhere at the same moment could be overwritten.' },
    c.ifNoneMatchOnPut
      ? { ok: true, text: 'Refuses to create a file that already exists.' }
      : { ok: false, text: 'Does not refuse to create a file that already exists: two new files with the same name could overwrite each other.' },
    c.ifMatchOnDelete
      ? { ok: true, text: 'Refuses to delete a file that changed meanwhile.' }
      : { ok: false, text: 'Deletes a file even if it changed meanwhile: a deletion could remove someone else’s fresh edit.' },
  ];
  if (!local) {
    lines.push(
      c.folderEtagsPropagate
        ? { ok: true, text: 'Folder tags change when something inside changes: unchanged folders are skipped, so checks are quick.' }
        : { ok: false, text: 'Folder tags do not show changes deeper inside: every folder is listed on each check, which is slower on big trees.' },
    );
  }
  return lines;
}
