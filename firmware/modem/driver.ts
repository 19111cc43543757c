// What the app asks of a modem, whichever it is. Declarations only: build.mjs puts the board's
// driver here (a76xx/driver.ts or sim800/driver.ts, by board.modem), so a bundle carries one
// driver and the app never names a modem. driver-check.ts makes tsc hold both to this shape.

import type { At } from '../at/engine';
import type { BrokerConfig, DeviceConfig } from '../config';

/** From "answers AT" to "registered, data ready, clock set if the network gives the time". */
export declare function netUp(at: At, cfg: DeviceConfig, done: (err: string | null) => void): void;

/** An MQTT session to b; password is given per connect (an Azure SAS token is made fresh). */
export declare function mqttConnect(
  at: At,
  b: BrokerConfig,
  password: string | undefined,
  will: { topic: string; payload: string } | null,
  done: (err: string | null) => void,
): void;

export declare function mqttSubscribe(at: At, topics: string[], qos: number, done: (err: string | null) => void): void;

/** QoS 1 is done only when the broker's PUBACK came back. */
export declare function mqttPublish(at: At, topic: string, payload: string, qos: number, retain: boolean, done: (err: string | null) => void): void;

export declare function mqttDisconnect(at: At, done: () => void): void;

/** Incoming messages, and the session ending without mqttDisconnect: why for the log, cause one
 *  of causes.ts (SESSION_LOST, DATA_LOST, MODEM_LOST); the supervisor's ladder picks the rung. */
export declare function mqttListen(at: At, onMessage: (topic: string, payload: string) => void, onLost: (why: string, cause: number) => void): void;

/** Recovery: tear the MQTT stack down so the next mqttConnect starts from nothing. Never fails. */
export declare function mqttReset(at: At, done: () => void): void;

/** Identity queries for diagnostics.ts (model, revision, ICCID), and the serving-cell query ('' if none). */
export declare const identQueries: string[];
export declare const cellQuery: string;

/** Recovery: drop the data context so the next netUp brings it up afresh. Never fails. */
export declare function dataReset(at: At, done: () => void): void;

/** Recovery: switch the radio off and on, so the modem registers afresh. */
export declare function radioReset(at: At, done: (err?: any) => void): void;
