// Over-the-air update of the bundle (config `ota`; host side: host/tools/ota.mjs).
//
// The host publishes on the command topic, one message at a time (it waits for each answer):
//   {"cmd":"ota","len":N,"crc":C,"n":K,"cs":S}   start: N bytes, E.CRC32 C (unsigned), K chunks of S
//   {"cmd":"ota","i":k,"d":"<base64>"}            chunk k: bytes k*S … on the status topic
//   {"cmd":"ota","ask":1}                         which chunk now?
// and the board answers on the status topic {"ota":"chunk","i":k} (written), {"ota":"need","i":m}
// (send m next), {"ota":"ready"} (checked; rebooting into it), {"ota":"bad","why":…},
// {"ota":"error","why":"start"|"flash"|"guard"}, {"ota":"idle"} (no update under way); the host
// tool turns the short codes into messages (they cost the board RAM).
//
// The chunks go straight into a preallocated Storage file, cp.new. Unwritten flash reads 0xFF and
// a bundle is ASCII, so the first chunk whose last byte is still 0xFF is the first one missing:
// an update resumes after a lost connection, a reboot or a power loss without a progress file.
// cp.ota holds the update's state: {s:"rx",len,crc,n,cs} while receiving; {s:"pending",crc,old,t}
// once cp.new is checked (old: the CRC of the running code, t: ota.rollbackSeconds). The switch to
// the new code is the boot guard's (.boot0, written by npm run flash: buildlib/ota-guard.mjs),
// which Espruino evaluates before .bootcde at every boot: it keeps the old code as cp.old and
// rolls back to it unless the new code reaches the broker within t seconds (and 3 boots); then
// otaOnline() below reports how it ended.

import { config } from '../target';
import { log } from '../log';
import { storage, reboot } from '../platform';
import { publish } from './commands';

const NEW = 'cp.new';
const STATE = 'cp.ota';

/** An answer on the status topic (QoS 0, as every reply; the host asks again if one is lost). */
function say(o: { [k: string]: any }, done?: (err: string | null) => void) {
  publish(config.topics.status, JSON.stringify(o), done);
}

/** The first chunk not yet written (n when all are). */
function missing(o: any): number {
  const S = storage();
  if (S.read(NEW, 0, 1) === undefined) return 0;
  for (let i = 0; i < o.n; i++) {
    if (S.read(NEW, Math.min((i + 1) * o.cs, o.len) - 1, 1) == '\xff') return i;
  }
  return o.n;
}

function start(c: any) {
  const S = storage();
  const o = S.readJSON(STATE, true);
  if (!(c.len > 0 && c.n > 0 && c.cs > 0 && Math.ceil(c.len / c.cs) == c.n && typeof c.crc == 'number')) return say({ ota: 'error', why: 'start' });
  if (!o || o.s != 'rx' || o.len != c.len || o.crc != c.crc || o.cs != c.cs) {
    // room for cp.new, then cp.old and the new .bootcde at the switch (trash is compacted)
    const st = S.getStats();
    const need = 3 * c.len + 4096;
    if (st.freeBytes + st.trashBytes < need) return say({ ota: 'error', why: 'flash', free: st.freeBytes + st.trashBytes });
    S.erase(NEW);
    S.writeJSON(STATE, { s: 'rx', len: c.len, crc: c.crc, n: c.n, cs: c.cs });
    log('ota: ' + c.len + ' bytes coming');
  }
  ask();
}

function ask() {
  const o = storage().readJSON(STATE, true);
  if (!o || o.s != 'rx') return say({ ota: 'idle' });
  const m = missing(o);
  if (m < o.n) return say({ ota: 'need', i: m });
  finish(o);
}

function chunk(i: number, d: string) {
  const S = storage();
  const o = S.readJSON(STATE, true);
  if (!o || o.s != 'rx') return say({ ota: 'idle' });
  const m = missing(o);
  if (i != m) return say({ ota: 'need', i: m });
  const data = atob(d);
  if (data.length != Math.min(o.cs, o.len - i * o.cs)) return bad('length');
  try {
    S.write(NEW, data, i * o.cs, o.len);
  } catch (e) {
    // a write cut by a power loss leaves bytes that cannot be written again: start over
    log('ota: ' + e);
    S.erase(NEW);
    return say({ ota: 'need', i: 0 });
  }
  if (i + 1 < o.n) return say({ ota: 'chunk', i: i });
  finish(o);
}

/** The update is not what its start message said: dropped, this code keeps running. */
function bad(why: string) {
  const S = storage();
  log('ota: bad ' + why);
  S.erase(NEW);
  S.erase(STATE);
  say({ ota: 'bad', why: why });
}

function finish(o: any) {
  const S = storage();
  // the boot guard switches to the new code (buildlib/ota-guard.mjs; npm run flash writes it)
  if (S.read('.boot0') === undefined) return say({ ota: 'error', why: 'guard' });
  const d = S.read(NEW);
  const why = !d || d.length != o.len ? 'length' : E.CRC32(d) != o.crc ? 'crc' : '';
  if (why) return bad(why);
  // the boot guard's copies (cp.old, .bootcde) must fit in free flash: an Espruino compaction is
  // not safe against a power cut (a file it is moving can be lost), so it happens here, while
  // the old code is whole and nothing depends on the switch yet, never in the middle of the switch
  if (S.getStats().freeBytes < 2 * o.len + 8192) S.compact();
  S.erase('cp.otb'); // an earlier update's boot count and rollback note
  S.erase('cp.otr');
  S.writeJSON(STATE, { s: 'pending', crc: o.crc, old: E.CRC32(S.read('.bootcde') || ''), t: config.ota!.rollbackS });
  log('ota: checked');
  say({ ota: 'ready' }, function () {
    reboot('update');
  });
}

/** {"cmd":"ota",…} on the command topic. */
export function ota(c: any) {
  if (c.len !== undefined) return start(c);
  if (c.i !== undefined) return chunk(c.i, String(c.d));
  ask();
}

/** The session is up: the new code on trial has reached the broker (it stays), or the boot guard
 *  put this code back; either way the update is over and its files go. */
export function otaOnline() {
  const S = storage();
  const o = S.readJSON(STATE, true);
  if (!o || o.s != 'pending') return;
  const r = S.read('cp.otr');
  const b = E.CRC32(S.read('.bootcde') || '');
  // neither: the old code before the switch (a connect between "ready" and the reboot)
  if (r === undefined ? b != o.crc : b != o.old) return;
  'cp.ota,cp.otb,cp.otr,cp.new,cp.old'.split(',').forEach(function (f) {
    S.erase(f);
  });
  log('ota: ' + (r === undefined ? 'done' : 'rolled back (' + r + ')'));
  say(r === undefined ? { ota: 'ok', fw: config.version } : { ota: 'rolled-back', why: r, fw: config.version });
}
