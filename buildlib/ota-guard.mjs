// The boot guard of over-the-air updates (config `ota`; firmware/remote/ota.ts receives the
// update, host/tools/ota.mjs sends it). build.mjs gives it as the Storage file `.boot0`, which
// `npm run flash` writes beside the code: Espruino evaluates .boot0 … .boot3 before .bootcde at
// every boot (src/jsflash.c jsfLoadBootCodeFromFlash), each with its own errors caught. It lives
// in Storage, not in the bundle, so it costs the running firmware no RAM (it returns at once
// unless an update is under way).
//
// Files (firmware/remote/ota.ts writes cp.new and cp.ota; the guard never rewrites cp.ota, so a
// power cut in one of its own writes cannot lose the update's state):
//   cp.ota {s:"pending", crc, old, t}: the new code (cp.new, checked: length and E.CRC32 crc) is
//     to replace the code whose CRC is old; t = ota.rollbackSeconds.
//   cp.otb  the number of boots of the new code so far (a lost count only starts it again).
//   cp.otr  the rollback is decided (its reason); written before the old code is put back.
// At each boot with cp.ota pending:
//   cp.otr there: put the old code back (cp.old → .bootcde) unless it is back already; return.
//   .bootcde is the old code (or torn: a cut during the switch): keep the old code as cp.old
//     (unless a good copy is there), copy cp.new → .bootcde. A cut anywhere leaves the same
//     decision for the next boot.
//   .bootcde is neither (and not torn): someone flashed other code; the update is forgotten.
//   then the new code's boot: counted; the 4th boot, or t seconds without the firmware's word (it
//     erases cp.ota once it reaches the broker), decide the rollback and reboot.
// c(name): E.CRC32 of a file, 0 when it is missing or torn (a cut write leaves 0xFF bytes, and a
// bundle is ASCII: terser's ascii_only). ES5 for Espruino (functions declared before use),
// checked by the build's gates in test/ota.test.mjs.

export const OTA_GUARD_FILE = '.boot0';

export const OTA_GUARD = [
  '(function(){',
  'var S=require("Storage"),o=S.readJSON("cp.ota",1);',
  'if(!o||o.s!="pending")return;',
  'function c(n){var d=S.read(n);return d&&d.indexOf("\\xff")<0?E.CRC32(d):0}',
  'var r=S.read("cp.otr"),b=c(".bootcde");',
  'function back(w){print("ota: back to the old code ("+w+")");if(!r)S.write("cp.otr",w);',
  'if(c("cp.old")==o.old)S.write(".bootcde",S.read("cp.old"));E.reboot()}',
  'if(r){if(b!=o.old)back(r);return}',
  'if(b!=o.crc){',
  'if(b&&b!=o.old){S.erase("cp.ota");return}',
  'if(b==o.old&&c("cp.old")!=o.old)S.write("cp.old",S.read(".bootcde"));',
  'S.write(".bootcde",S.read("cp.new"));',
  'if(c(".bootcde")!=o.crc)return back("copy failed")}',
  'var n=(parseInt(S.read("cp.otb"),10)||0)+1;',
  'if(n>3)return back("boot "+n);',
  'S.write("cp.otb",""+n);',
  'print("ota: trying the new code (boot "+n+"): back to the old one in "+o.t+" s unless it reaches the broker");',
  'setTimeout(function(){if(S.read("cp.ota"))back("not online in "+o.t+" s")},o.t*1000)',
  '})()\n',
].join('');
