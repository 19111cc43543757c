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
  ntpServer: string;
  /** PROVISIONAL (power part owns it): present only for duty-cycle */
  power?: { uploadEveryS: number; modem: string; slowV: number; slowFactor: number; stopV: number; stopSleepS: number };
  /** 'dtr-sleep': always-on with the modem in DTR sleep between commands (modem/dtr-sleep.ts) */
  modemSleep?: string;
  /** seconds to wait for network registration before saying why it failed */
  registerTimeoutS: number;
}
