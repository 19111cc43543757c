import type { BoardFile } from './board';

// LilyGO T-SIM7670G-S3 (ESP32-S3 + SIM7670G). LilyGO utilities.h `LILYGO_T_SIM7670G_S3`.
export const board: BoardFile = {
  id: 't-sim7670g-s3',
  title: 'LilyGO T-SIM7670G-S3',
  modem: 'A76xx',
  modemModel: 'SIM7670G-MNGV',
  uart: { port: 'Serial2', rx: 10, tx: 11, baud: 115200 },
  reset: { pin: 17, activeLevel: 0 },
  // LilyGO's value for the SIM7670G; its hardware manual was not available (docs/modem-facts.md §E.1)
  pwrkey: { pin: 18, inverted: true, onPulseMs: 100, offPulseMs: 3000 },
  powerUp: [
    ['reset', 1, 0], // RESET released (active low)
    ['dtr', 0, 0], // DTR low: modem stays awake
    ['pwrkey', 0, 100],
    ['pwrkey', 1, 100], // PWRKEY on pulse
    ['pwrkey', 0, 0],
  ],
  bootMaxMs: 30000,
  // GPIO3 is the modem's RING here (documented.ri below, and LilyGO's pin table for this board:
  // docs/en/esp32s3/sim7670g-s3/REAMDE.MD "| Modem RING | 3 | ❌ |"), so the sensor cannot go on
  // SDA 3 / SCL 2 as on the S3-Standard board. LilyGO's own I2C pins for this board are the
  // SimShield header's: utilities.h (7d8ce57) under `LILYGO_T_SIM7670G_S3`:
  //   #define SIMSHIELD_SDA                       (2)
  //   #define SIMSHIELD_SCL                       (1)
  // and its S3 SIM-Hat examples (examples/SimHatAccelerometer: `#define IMU_SDA 2`, `IMU_SCL 1`).
  // Neither 1 nor 2 is in the board's pin table. Another pair: sensors.i2c in the config.
  i2c: { sda: 2, scl: 1 },
  // The SIM7670G has GNSS (LilyGO's GPS examples run on this board: examples/GPS_BuiltIn has no
  // .skip.T-SIM7670G; docs/modem-facts.md §A.9); its active antenna is powered from the modem's
  // GPIO4: utilities.h (7d8ce57) under LILYGO_T_SIM7670G_S3:
  //   #define MODEM_GPS_ENABLE_GPIO               (4)
  //   #define MODEM_GPS_ENABLE_LEVEL              (1)
  // which TinyGsmClientSIM7672.h enableGPSImpl turns into AT+CGDRT=4,1 and AT+CGSETV=4,1.
  gnss: true,
  gnssAntennaGpio: 4,
  dtr: 9, // the modem's DTR (LilyGO utilities.h MODEM_DTR_PIN)
  // the firmware never reads these as fields (see Documented in board.ts): out of the bundle
  documented: {
    ri: 3,
    led: { pin: 12, onLevel: 0 },
  },
  // utilities.h also has `MODEM_GPS_ENABLE_GPIO (4)` here: a GPIO of the modem (set by AT
  // command), not the ESP32's IO4, so no clash with the battery ADC. Espruino's ESP32-S3 build has
  // no ADC (analogRead gives NaN): the firmware reports no battery voltage on this board.
  battery: { pin: 4, divider: 2 },
  source: 'docs/modem-facts.md §C.3 and §A.2 (LilyGO utilities.h 7d8ce57)',
};
