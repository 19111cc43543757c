// What the firmware takes from Espruino itself beyond the language, in one place: its modules
// (Storage, crypto), the board's UART by the name the board file gives, the watchdog and reboot.
// Pins, timers, I2C and the console are plain globals that Espruino and the host runtime
// (host/runtime) both provide; espruino.d.ts declares every one the firmware may use.
// (globalThis.require, not require: esbuild would try to bundle a bare require('Storage'), or
// with `external` add a Proxy-based __require shim; Espruino's require is a global.)

const BOOT_FILE = 'cp.boot';

export function storage(): EspruinoStorage {
  return globalThis.require('Storage');
}

/** The digest of s's bytes by require('crypto')[name] ('SHA256' | 'SHA384' | 'SHA512'), a binary string. */
export function hash(name: string, s: string): string {
  return E.toString((globalThis.require('crypto') as any)[name](s));
}

export function sha256(s: string): string {
  return hash('SHA256', s);
}

/** The board's UART to the modem: Serial2 on every LilyGO board so far. */
export function uart(port: string): EspruinoSerial {
  return (globalThis as any)[port];
}

/** The ESP32 restarts if ok() says no for a watchdog period: readings are safe in flash. */
export function watchdog(s: number, ok: () => boolean) {
  E.enableWatchdog(s, false);
  setInterval(function () {
    if (ok()) E.kickWatchdog();
  }, 5000);
}

/** Why this boot: the firmware notes its own restarts; anything else is power-on, reset or watchdog. */
export function bootReason(): string {
  const S = storage();
  const why = S.read(BOOT_FILE) || 'power-on, reset button or watchdog';
  S.erase(BOOT_FILE);
  return why;
}

export function reboot(why: string) {
  storage().write(BOOT_FILE, why);
  setTimeout(E.reboot, 500);
}
