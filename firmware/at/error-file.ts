// error-texts.ts as the board has it: build.mjs puts this module in its place in a bundle, and the
// texts in the Storage file cp.errs beside the code (written by npm run flash). The file is read
// only when an error is reported; Storage.read gives a string that stays in flash.

import { storage } from '../platform';

const ERRORS_FILE = 'cp.errs'; // build.mjs writes it

/** "meaning|hint" for a code of kind 'mqtt' or 'cme', or undefined (unknown code, or no file). */
export function errorEntry(kind: string, code: number): string | undefined {
  const all = storage().read(ERRORS_FILE) || '';
  const at = all.indexOf('\n' + kind.charAt(0) + code + ' ');
  if (at < 0) return undefined;
  const from = all.indexOf(' ', at) + 1;
  return all.substring(from, all.indexOf('\n', from));
}
