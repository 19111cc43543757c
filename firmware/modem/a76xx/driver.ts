// The A76xx / SIM7670G driver (see driver.ts): the modem's own MQTT(S) stack.
export { netUp, dataReset, identQueries, cellQuery } from './net';
export { mqttConnect, mqttSubscribe, mqttPublish, mqttDisconnect, mqttListen, mqttReset } from './mqtt';
export { radioReset } from '../registration';
