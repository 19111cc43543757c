// Error tables of the A76xx's MQTT stack (the CME table both modems share is ../common/cme.mjs).
// The MQTT <err> codes: A76-ATM §18.3.1 (= modem-facts.md §A.6).

export const MQTT_ERR = {
  OK: 0,
  FAILED: 1,
  BAD_UTF8: 2,
  SOCK_CONNECT: 3,
  SOCK_SEND: 16,
  NETWORK_OPEN: 7,
  CLIENT_INDEX: 10,
  NO_CONNECTION: 11,
  INVALID_PARAM: 12,
  NOT_SUPPORTED: 13,
  BUSY: 14,
  TIMEOUT: 17,
  TOPIC_EMPTY: 18,
  CLIENT_USED: 19,
  NOT_ACQUIRED: 20,
  NOT_RELEASED: 21,
  LENGTH: 22,
  DNS: 25,
  CLOSED_BY_SERVER: 26,
  // CONNACK return codes 1..5 (MQTT 3.1/3.1.1) map to 27..31 (§18.3.1 lists them in that order)
  CONNACK_BASE: 26,
  HANDSHAKE: 32,
  NO_CERT: 33,
  OPEN_SESSION: 34,
};

// +CMQTTCONNLOST causes (A76-ATM §18.4)
export const CONNLOST = { CLOSED_BY_PEER: 1, RESET: 2, NETWORK_CLOSED: 3 };
