// The config as the firmware sees it: already validated, presets applied and placeholders
// filled by build.mjs (see buildlib/config.mjs for the user-facing schema and its messages).

export interface BrokerConfig {
  host: string;
  port: number;
  tls: boolean;
  /** send the server name in the TLS handshake (HiveMQ Cloud and EMQX route by it) */
  sni: boolean;
  username?: string;
  password?: string;
  /** CA file name on the modem; it embeds a hash of the PEM, so a changed CA gets a new name */
  caName?: string;
  caPem?: string;
  clientId: string;
  keepalive: number;
  cleanSession: boolean;
  /** Azure IoT Hub: the password is a SAS token the device makes from this key */
  azure?: { resource: string; tokenS: number; key?: string };
  /** X.509 client authentication (authmode 2): files uploaded to the modem like the CA */
  clientCert?: { name: string; pem: string };
  clientKey?: { name: string; pem: string };
}

export interface DeviceConfig {
  version: string;
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
  /** seconds to wait for network registration before saying why it failed */
  registerTimeoutS: number;
}
