// Declarations for the parts of Espruino (2v29, ESP32 build) the firmware uses.
// Signatures follow the Espruino source (src/jswrap_*.c). The tsconfig's lib is plain ES5, so
// anything not declared here or in ES5 does not type-check, which keeps Node-only APIs out.

type Pin = number;

interface SerialSetupOptions {
  rx?: Pin;
  tx?: Pin;
  bytesize?: number;
  parity?: null | 'none' | 'o' | 'odd' | 'e' | 'even';
  stopbits?: number;
  path?: string;
}

interface EspruinoSerial {
  setup(baud: number, options?: SerialSetupOptions): void;
  write(data: string | number | number[] | Uint8Array): void;
  print(data: string): void;
  println(data: string): void;
  on(event: 'data', listener: (data: string) => void): void;
  removeAllListeners(event?: string): void;
}

interface EspruinoI2C {
  setup(options: { sda: Pin; scl: Pin; bitrate?: number }): void;
  writeTo(address: number | { address: number; stop: boolean }, ...data: (number | number[] | Uint8Array)[]): void;
  readFrom(address: number | { address: number; stop: boolean }, quantity: number): Uint8Array;
}

declare var Serial1: EspruinoSerial;
declare var Serial2: EspruinoSerial;
declare var Serial3: EspruinoSerial;
declare var I2C1: EspruinoI2C;
declare var I2C2: EspruinoI2C;

declare function pinMode(pin: Pin, mode: 'input' | 'input_pullup' | 'input_pulldown' | 'output' | 'opendrain' | 'analog'): void;
declare function digitalWrite(pin: Pin, value: number | boolean): void;
declare function digitalRead(pin: Pin): number;
declare function digitalPulse(pin: Pin, value: number | boolean, time: number | number[]): void;
declare function analogRead(pin: Pin): number;
/** setWatch's event (src/jsinteractive.c): time and lastTime in seconds, edges timestamped in µs */
interface WatchEvent {
  state: boolean;
  time: number;
  lastTime: number;
}
declare function setWatch(
  fn: (e: WatchEvent) => void,
  pin: Pin,
  options: { repeat?: boolean; edge?: 'rising' | 'falling' | 'both'; debounce?: number },
): number;
declare function clearWatch(id: number): void;
/** src/jswrap_onewire.c: a software OneWire master on one pin */
declare class OneWire {
  constructor(pin: Pin);
  /** true when a device answered the reset with a presence pulse */
  reset(): boolean;
  select(rom: string): void;
  skip(): void;
  write(data: number | number[], power?: boolean): void;
  read(count: number): Uint8Array;
  search(command?: number): string[];
}
declare function getTime(): number;
/** Set the RTC (seconds since 1970, UTC): `Date` and `new Date()` follow it. */
declare function setTime(time: number): void;
declare function setTimeout(fn: () => void, ms: number): number;
declare function setInterval(fn: () => void, ms: number): number;
declare function clearTimeout(id: number): void;
declare function clearInterval(id: number): void;
declare function print(...args: any[]): void;
/** base64 of a binary string (one char per byte) */
declare function btoa(binary: string): string;
/** base64 to a binary string */
declare function atob(base64: string): string;

declare var console: { log(...args: any[]): void };

declare var E: {
  enableWatchdog(timeout: number, isAuto?: boolean): void;
  kickWatchdog(): void;
  on(event: 'init' | 'kill' | 'errorFlag', listener: (...args: any[]) => void): void;
  getErrorFlags(): string[];
  getSizeOf(v: any, depth?: number): number;
  /** sum of arr1[i] * arr2[(i + offset) % arr2.length] over every i of arr1, in doubles, natively */
  convolve(arr1: ArrayLike<number> | string, arr2: ArrayLike<number> | string, offset: number): number;
  /** a random 32-bit integer from the chip's hardware RNG (esp_random on the ESP32) */
  hwRand(): number;
  /** CRC-32 (the zlib one) of the bytes, as an unsigned number */
  CRC32(data: string | number[] | Uint8Array): number;
  /** The bytes of the arguments as a binary string (an 8-bit ArrayBuffer's backing string as is). */
  toString(...args: any[]): string;
  /** The bytes of the arguments as a new Uint8Array (a string: one element per char). */
  toUint8Array(...args: any[]): Uint8Array;
  reboot(): void;
};

declare var ESP32: {
  deepSleep(us: number): void;
  /** 0 not from deep sleep, 4 the timer (esp_sleep_get_wakeup_cause, jswrap_esp32.c) */
  getWakeupCause(): number;
  setAtten(pin: Pin, atten: number): void;
  reboot(): void;
};

declare var process: {
  memory(): { free: number; usage: number; total: number };
  env: { VERSION: string; BOARD: string };
};

interface EspruinoStorage {
  read(name: string, offset?: number, length?: number): string | undefined;
  readJSON(name: string, noExceptions?: boolean): any;
  write(name: string, data: string | Uint8Array, offset?: number, size?: number): boolean;
  writeJSON(name: string, data: any): boolean;
  list(pattern?: RegExp): string[];
  erase(name: string): void;
  getFree(): number;
  getStats(): { totalBytes: number; freeBytes: number; fileBytes: number; fileCount: number; trashBytes: number; trashCount: number };
  compact(): void;
}

interface EspruinoCrypto {
  SHA1(data: string | ArrayBuffer | Uint8Array): ArrayBuffer;
  SHA256(data: string | ArrayBuffer | Uint8Array): ArrayBuffer;
  SHA384(data: string | ArrayBuffer | Uint8Array): ArrayBuffer;
  SHA512(data: string | ArrayBuffer | Uint8Array): ArrayBuffer;
  AES: EspruinoAes;
}

/**
 * crypto.AES (ESP32 build, libs/crypto/jswrap_crypto.c): key of 16/24/32 bytes. mode 'CBC' (the
 * default; iv used; length a multiple of 16), 'CFB' (CFB8, iv used), 'CTR' (the counter always
 * starts at 0: iv ignored), 'ECB' (whole blocks; a partial tail comes back as zeros). 'OFB' and
 * the errors of mbedtls print "ERROR: …" and return undefined; an unknown mode throws.
 */
interface EspruinoAes {
  encrypt(message: string | ArrayBuffer | Uint8Array, key: string | ArrayBuffer | Uint8Array, options?: EspruinoAesOptions): ArrayBuffer;
  decrypt(message: string | ArrayBuffer | Uint8Array, key: string | ArrayBuffer | Uint8Array, options?: EspruinoAesOptions): ArrayBuffer;
}
interface EspruinoAesOptions {
  mode?: 'CBC' | 'CFB' | 'CTR' | 'ECB';
  iv?: string | ArrayBuffer | Uint8Array | number[];
}

declare function require(module: 'Storage'): EspruinoStorage;
declare function require(module: 'crypto'): EspruinoCrypto;

// ES5 lacks these declarations, but Espruino has them (docs/espruino-facts.md, "Present").
interface String {
  padStart(length: number, fill?: string): string;
  startsWith(search: string, position?: number): boolean;
  includes(search: string): boolean;
  repeat(count: number): string;
}
interface Array<T> {
  find(pred: (v: T, i: number) => boolean): T | undefined;
  includes(v: T): boolean;
}
interface ObjectConstructor {
  assign<T, U>(target: T, source: U): T & U;
}
