// Build-time constants: build.mjs replaces them (esbuild `define`) and terser drops the dead
// branches, so a HiveMQ bundle carries no Azure code and the other way round.
declare const __AZURE__: boolean;
/** the board has an IP5306 power chip to keep on and read the battery from (T-Call SIM800L) */
declare const __IP5306__: boolean;
/** the board's modem is a SIM800 (cellpub's own MQTT client; no CMQTT error codes) */
declare const __SIM800__: boolean;
/** cellpub's own TLS 1.2 (firmware/tls/) over the SIM800's plain socket: only bundles that use it carry it */
declare const __TLS__: boolean;
/** power.mode duty-cycle: deep sleep between readings, the modem up only to upload (firmware/power/) */
declare const __DUTY__: boolean;
/** the config has sensors.gnss: readings carry the position (firmware/modem/a76xx/gnss.ts) */
declare const __GNSS__: boolean;
/** the config has a DHT11/DHT22 (firmware/sensors/dht.ts) */
declare const __DHT__: boolean;
/** the config has a DS18B20 on OneWire (firmware/sensors/ds18b20.ts) */
declare const __DS18B20__: boolean;
/** the config has an analog input (firmware/sensors/analog.ts) */
declare const __ANALOG__: boolean;
/** always-on with the modem in DTR sleep between commands (config power.modem "dtr-sleep") */
declare const __DTR_SLEEP__: boolean;
/** duty-cycle with the modem in LTE PSM between uploads (config power.modem "psm"; A76xx only) */
declare const __PSM__: boolean;
/** the config has ota: updates of the bundle over MQTT (firmware/remote/ota.ts) */
declare const __OTA__: boolean;
