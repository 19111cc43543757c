// AT failures as values (AtError) and as the text the log and the status topic show. What a code
// means and what to change come from error-texts.ts (in a bundle: error-file.ts, which reads them
// from the Storage file cp.errs only when an error needs them).

import { errorEntry } from './error-texts';

/** An AT failure: the command name (never its arguments: they can hold secrets), the code and
 *  where it came from ('cme', 'mqtt', 'timeout', 'error' for a bare ERROR). */
export interface AtError {
  cmd: string;
  kind: string;
  code: number;
  msg: string;
  hint: string;
}

function split(entry: string | undefined, fallback: string): string[] {
  return entry ? entry.split('|') : [fallback, ''];
}

export function atError(cmd: string, kind: string, code: number, text?: string): AtError {
  let parts: string[];
  if (kind == 'mqtt') parts = split(errorEntry(kind, code), 'unknown MQTT error');
  else if (kind == 'cme') parts = split(errorEntry(kind, code), text || 'modem error');
  else if (kind == 'timeout') parts = ['no answer in time', 'the modem did not answer; it will be restarted if this goes on'];
  else parts = [text || 'ERROR', ''];
  return { cmd: cmd, kind: kind, code: code, msg: parts[0], hint: parts[1] };
}

/** "AT+CMQTTCONNECT: MQTT error 30 (connection refused: bad user name or password): check …" */
export function errorText(e: AtError): string {
  let s = e.cmd + ': ';
  if (e.kind == 'timeout' || e.kind == 'error') s += e.msg;
  else s += (e.kind == 'mqtt' ? 'MQTT error ' : 'CME error ') + e.code + ' (' + e.msg + ')';
  return e.hint ? s + ': ' + e.hint : s;
}
