// What the modem's error codes mean and what the user should change.
// CMQTT codes: A76XX AT manual ch. 18 (docs/modem-facts.md §A.6); CME codes: A76XX AT manual §3.2.11.
// One table for the firmware's messages and for the README's troubleshooting section.

/** An AT failure: the command name (never its arguments: they can hold secrets), the code and
 *  where it came from ('cme', 'mqtt', 'timeout', 'error' for a bare ERROR). */
export interface AtError {
  cmd: string;
  kind: string;
  code: number;
  msg: string;
  hint: string;
}

// index = code; "meaning|hint" (exported for the README's troubleshooting table, buildlib/troubleshooting.mjs)
// Codes 27-31 are the broker's CONNACK refusals 1-5, which the SIM800 path (its own MQTT client)
// reports too; a SIM800 bundle carries only those (__SIM800__: the rest is the A76xx's stack).
function connackRefused(): string[] {
  return [
  'connection refused: unacceptable protocol version|the broker needs MQTT 3.1.1 (CMQTTCFG "version" 4)',
  'connection refused: identifier rejected|change broker.clientId',
  'connection refused: server unavailable|the broker is not accepting clients now; it will be retried',
  'connection refused: bad user name or password|check broker.username and broker.password',
  'connection refused: not authorized|the broker refused these credentials or this client id: check them and the broker\'s access rules',
];
}

/** The whole table, made when an error needs it (errors are rare; a SIM800 bundle drops it). */
export function mqttTable(): string[] {
  return [
    'ok|',
    'failed|',
    'bad UTF-8 string|topics and payloads must be valid UTF-8',
    'sock connect fail|the broker did not accept a TCP connection: check broker.host and broker.port (HiveMQ Cloud: 8883 for MQTT over TLS)',
    'sock create fail|the modem could not open a socket: is the data connection up (APN)?',
    'sock close fail|',
    'message receive fail|',
    'network open fail|check the APN and that the SIM has a data plan',
    'network close fail|',
    'network not opened|the data connection is down: check the APN and coverage',
    'client index error|',
    'no connection|the MQTT session is not connected',
    'invalid parameter|a command argument was refused: the server address must start with tcp:// even for TLS',
    'not supported operation|',
    'client is busy|',
    'require connection fail|TLS or broker refused the session: turn SNI on for clouds that route by server name',
    'sock sending fail|',
    'timeout|the broker did not answer in time: check coverage and the broker address',
    'topic is empty|',
    'client is used|',
    'client not acquired|',
    'client not released|',
    'length out of range|topic up to 1024 bytes, payload up to 10240 bytes',
    'network is opened|',
    'packet fail|',
    'DNS error|the broker host name did not resolve: check broker.host',
    'socket closed by server|the broker closed the connection: wrong port (8884 is WebSocket), TLS off, or a refused protocol',
  ].concat(connackRefused(), [
    'TLS handshake fail|check broker.port (8883 for TLS), the CA certificate and that the broker accepts TLS 1.2 with SNI',
    'certificate not set|the CA file was not found on the modem',
    'open session failed|TLS session could not be opened: check the CA certificate, SNI and the modem clock',
    'disconnect from server failed|',
  ]);
}

/** "meaning|hint" by CME code, made when an error needs it. */
export function cmeTable(): { [code: number]: string } {
  return {
  3: 'operation not allowed|the modem refused the command in its current state',
  4: 'operation not supported|',
  10: 'SIM not inserted|insert a SIM card (power off first)',
  11: 'SIM PIN required|set simPin in the config',
  12: 'SIM PUK required|unlock the SIM with its PUK in a phone',
  13: 'SIM failure|the SIM is not ready yet or is not seated well',
  14: 'SIM busy|',
  15: 'SIM wrong|',
  16: 'incorrect password|simPin is wrong: check it before the SIM locks',
  30: 'no network service|no coverage or the SIM is not allowed on this network',
  100: 'unknown|',
};
}

function split(entry: string | undefined, fallback: string): string[] {
  return entry ? entry.split('|') : [fallback, ''];
}

export function atError(cmd: string, kind: string, code: number, text?: string): AtError {
  let parts: string[];
  // typeof: host tests import this module as it is, without build.mjs's defines
  const sim800 = typeof __SIM800__ != 'undefined' && __SIM800__;
  if (kind == 'mqtt') parts = split(sim800 ? connackRefused()[code - 27] : mqttTable()[code], 'unknown MQTT error');
  else if (kind == 'cme') parts = split(cmeTable()[code], text || 'modem error');
  else if (kind == 'timeout') parts = ['no answer in time', 'the modem did not answer; it will be restarted if this goes on'];
  else parts = [text || 'ERROR', ''];
  return { cmd: cmd, kind: kind, code: code, msg: parts[0], hint: parts[1] };
}

/** "AT+CMQTTCONNECT: MQTT error 30 (connection refused: bad user name or password): check …" */
export function errorText(e: AtError): string {
  let s = e.cmd + ': ';
  if (e.kind == 'timeout' || e.kind == 'error') s += e.msg;
  else s += (e.kind == 'mqtt' ? 'MQTT error ' : 'CME error ') + e.code + ' (' + e.msg + ')';
  return e.hint ? s + ': ' + e.hint : s;
}
