// The A76xx / SIM7670G driver (see driver.ts): the modem's own MQTT(S) stack.
export { netUp } from './a76xx-net';
export { mqttConnect, mqttSubscribe, mqttPublish, mqttDisconnect, mqttListen } from './a76xx-mqtt';
