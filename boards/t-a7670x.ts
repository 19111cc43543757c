import type { BoardFile } from './board';

// LilyGO T-A7670X (ESP32-WROVER-E + A7670E/SA/G). LilyGO utilities.h `LILYGO_T_A7670`.
export const board: BoardFile = {
  id: 't-a7670x',
  title: 'LilyGO T-A7670X',
  modem: 'A76xx',
  modemModel: 'A7670G-LLSE',
  uart: { port: 'Serial2', rx: 27, tx: 26, baud: 115200 },
  // IO12 must go HIGH right after boot: it powers the modem and the SD slot, and the v1.2 board
  // resets on battery unless it does; switching it on again later browns the board out on
  // battery (the inrush of the modem's DC-DC). So it is driven first and never cut.
  powerOn: 12,
  keepPowerOn: true,
  reset: { pin: 5, activeLevel: 1 },
  pwrkey: { pin: 4, inverted: true, onPulseMs: 100, offPulseMs: 3000 },
  powerUp: [
    ['powerOn', 1, 0], // POWER_ON
    ['reset', 0, 0], // RESET released
    ['dtr', 0, 0], // DTR low: modem stays awake
    ['pwrkey', 0, 100], // PWRKEY idle, as LilyGO does before the pulse
    ['pwrkey', 1, 100], // PWRKEY asserted (through the transistor) for the on pulse (A7670 Ton ≥ 50 ms)
    ['pwrkey', 0, 0],
  ],
  bootMaxMs: 30000, // UART ready after ~11.1 s typ. (A7670 HW table 11); LilyGO waits up to 30 s
  // LilyGO's pin table for this board (docs/en/esp32/a7670-esp32/REAMDE.MD, 7d8ce57):
  // "| Default SDA | 21 | ✅️ |" / "| Default SCL | 22 | ✅️ |" (free), and utilities.h
  // `LILYGO_T_A7670`: `#define SIMSHIELD_SDA (21)`, `#define SIMSHIELD_SCL (22)`.
  dtr: 25, // the modem's DTR (LilyGO utilities.h MODEM_DTR_PIN)
  i2c: { sda: 21, scl: 22 },
  // the firmware never reads these as fields (see Documented in board.ts): out of the bundle
  documented: { ri: 33 },
  // BAT ADC: IO35 through a 100k/100k divider (LilyGO utilities.h `BOARD_BAT_ADC_PIN 35`; docs/modem-facts.md §C.3)
  battery: { pin: 35, divider: 2 },
  source: 'docs/modem-facts.md §C.3 and §A.2 (LilyGO utilities.h 7d8ce57, A7670 hardware manual)',
};
