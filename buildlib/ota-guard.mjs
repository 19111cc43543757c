// The boot guard of over-the-air updates (config `ota`; firmware/remote/ota.ts receives the
// update, host/tools/ota.mjs sends it). build.mjs gives it as the Storage file `.boot0`, which
// `npm run flash` writes beside the code: Espruino evaluates .boot0 … .boot3 before .bootcde at
// every boot (src/jsflash.c jsfLoadBootCodeFromFlash), each with its own errors caught. It lives
// in Storage, not in the bundle, so it costs the running firmware no RAM (it returns at once
// unless an update is under way).
//
// cp.ota holds the update's state (firmware/remote/ota.ts writes "rx" and "pending"):
//   pending {crc, old, t}: the new code (cp.new, already checked: length and E.CRC32 crc) is to
//     be switched to. The old code is kept as cp.old (unless a good copy is there already), cp.new
//     is copied to .bootcde, and the state becomes trial. A power cut anywhere in it leaves
//     "pending" (or a torn .bootcde), and the next boot finishes the job.
//   trial {crc, old, t, boots}: boots are counted; the 4th boot, or t seconds without the
//     firmware's word (it erases cp.ota once it reaches the broker), put cp.old back as .bootcde,
//     state "rolled-back" (the old code reports it and erases it), and reboot.
//   .bootcde neither the new nor the old code (and not torn): someone flashed other code; the
//     update is forgotten.
// c(name): E.CRC32 of a file, 0 when it is missing or torn (a cut write leaves 0xFF bytes, and a
// bundle is ASCII: terser's ascii_only). ES5 for Espruino: no hoisting needed (functions are
// declared before use), checked by the build's gates in test/ota.test.mjs.

export const OTA_GUARD_FILE = '.boot0';

export const OTA_GUARD = [
  '(function(){',
  'var S=require("Storage"),o=S.readJSON("cp.ota",1);',
  'if(!o||(o.s!="pending"&&o.s!="trial"))return;',
  'function c(n){var d=S.read(n);return d&&d.indexOf("\\xff")<0?E.CRC32(d):0}',
  'function back(w){print("ota: back to the old code ("+w+")");',
  'if(c("cp.old")==o.old)S.write(".bootcde",S.read("cp.old"));',
  'o.s="rolled-back";o.why=w;S.writeJSON("cp.ota",o);E.reboot()}',
  'var b=c(".bootcde");',
  'if(o.s=="pending"){',
  'if(b!=o.crc){',
  'if(c("cp.old")!=o.old){if(b!=o.old){S.erase("cp.ota");return}S.write("cp.old",S.read(".bootcde"))}',
  'S.write(".bootcde",S.read("cp.new"));b=c(".bootcde")}',
  'if(b!=o.crc)return back("copy failed");',
  'o.s="trial";o.boots=0',
  '}else if(b!=o.crc){',
  'if(b==o.old){o.s="rolled-back";S.writeJSON("cp.ota",o);return}',
  'if(b){S.erase("cp.ota");return}',
  'return back("damaged")}',
  'if(++o.boots>3)return back("boot "+o.boots);',
  'S.writeJSON("cp.ota",o);',
  'print("ota: trying the new code (boot "+o.boots+"): back to the old one in "+o.t+" s unless it reaches the broker");',
  'setTimeout(function(){var p=S.readJSON("cp.ota",1);if(p&&p.s=="trial")back("not online in "+o.t+" s")},o.t*1000)',
  '})()\n',
].join('');
