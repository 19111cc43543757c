// The SIM800 driver (see driver.ts): cellpub's own MQTT 3.1.1 client over the modem's TCP socket.
export { netUp, dataReset, identQueries, cellQuery } from './net';
export { mqttConnect, mqttSubscribe, mqttPublish, mqttDisconnect, mqttListen, mqttReset } from './mqtt';
export { radioReset } from '../registration';
