// The config as the firmware sees it: already validated, presets applied and placeholders
// filled by build.mjs (see buildlib/config.mjs for the user-facing schema and its messages).
// Secrets and PEM files are not in the bundle: they come from Storage at boot (secrets.ts).

export interface BrokerConfig {
  host: string;
  port: number;
  tls: boolean;
  /** send the server name in the TLS handshake (HiveMQ Cloud and EMQX route by it) */
  sni: boolean;
  username?: string;
  password?: string;
  /** 'cellpub': TLS 1.2 by firmware/tls/ over the SIM800's plain socket (else the modem's TLS) */
  tlsStack?: string;
  /** cellpub's TLS may connect before the network time is known (certificate dates unchecked) */
  anyTime?: boolean;
  /** CA file name on the modem; it embeds a hash of the PEM, so a changed CA gets a new name.
   *  The PEM itself is in Storage as 'cp.' + caName (secrets.ts), read only to upload it. */
  caName?: string;
  clientId: string;
  keepalive: number;
  cleanSession: boolean;
  /** Azure IoT Hub: the password is a SAS token the device makes from this key */
  azure?: { resource: string; tokenS: number; key?: string };
  /** X.509 client authentication (authmode 2): files uploaded to the modem like the CA */
  clientCert?: { name: string };
  clientKey?: { name: string };
}

/** sensors.gnss, with what the board file says about its GNSS (buildlib/config.mjs) */
export interface GnssConfig {
  /** the time budget of a fix */
  fixTimeoutS: number;
  /** the modem GPIO that powers the board's active antenna (board file gnssAntennaGpio) */
  ant?: number;
  /** 1: the modem announces "+CGNSSPWR: READY!" after AT+CGNSSPWR=1 (A76xx firmware, A76-ATM
   *  §24.2.1); absent: a plain OK (SIM767X firmware, docs/modem-facts.md §A.9) */
  ready?: 1;
}

export interface DeviceConfig {
  version: string;
  /** the build moved secrets (password, device key, SIM PIN) to Storage: secrets.ts loads them */
  secrets?: boolean;
  apn: string;
  simPin?: string;
  broker: BrokerConfig;
  topics: { telemetry: string; command: string; status: string };
  qos: number;
  intervalS: number;
  /** readings kept in RAM while they cannot be sent; the oldest is dropped (and counted) past it */
  queueMax: number;
  bme280?: { address: number };
  gnss?: GnssConfig;
  /** DHT11 or DHT22 (type 11 / 22) on one GPIO */
  dht?: { type: number; pin: number };
  /** one DS18B20 on a OneWire bus on this GPIO */
  ds18b20?: { pin: number };
  /** analogRead(pin) × scale + offset, in the reading as `name` */
  analog?: { pin: number; name: string; scale: number; offset: number };
  ntpServer: string;
  /** seconds to wait for network registration before saying why it failed */
  registerTimeoutS: number;
  /** duty-cycle only (firmware/power/): upload period, the modem between uploads ('off' | 'psm'),
   *  and the low-battery rules (volts 0: the board cannot measure its battery, no rules) */
  power?: { uploadEveryS: number; modem: string; slowV: number; slowFactor: number; stopV: number; stopSleepS: number };
  /** over-the-air updates (remote/ota.ts): the new code must reach the broker within rollbackS */
  ota?: { rollbackS: number };
  /** 'dtr-sleep': always-on with the modem in DTR sleep between commands (modem/dtr-sleep.ts) */
  modemSleep?: string;
}
