// What the modem's error codes mean and what the user should change, as texts: the A76xx
// modem's MQTT codes (A76XX AT manual ch. 18, docs/modem-facts.md §A.6; codes 27-31 are the
// broker's CONNACK refusals 1-5, which the SIM800's own MQTT client reports too) and the CME codes
// (A76XX AT manual §3.2.11). One table for three readers: the README's troubleshooting section
// (buildlib/troubleshooting.mjs), host tests, and the board, which gets them as the Storage file
// cp.errs that the build writes beside the bundle (errorFileText below; error-file.ts reads it),
// so ~3 KB of text is never part of the code a board loads.

// index = code; "meaning|hint"
export function connackRefused(): string[] {
  return [
    'connection refused: unacceptable protocol version|the broker needs MQTT 3.1.1 (CMQTTCFG "version" 4)',
    'connection refused: identifier rejected|change broker.clientId',
    'connection refused: server unavailable|the broker is not accepting clients now; it will be retried',
    'connection refused: bad user name or password|check broker.username and broker.password',
    "connection refused: not authorized|the broker refused these credentials or this client id: check them and the broker's access rules",
  ];
}

/** The A76xx's MQTT codes, index = code. */
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

/** "meaning|hint" for a code of kind 'mqtt' or 'cme', or undefined. */
export function errorEntry(kind: string, code: number): string | undefined {
  return kind == 'mqtt' ? mqttTable()[code] : cmeTable()[code];
}

/** The Storage file cp.errs for a board: one line per code, "m<code> meaning|hint" (MQTT) or
 *  "c<code> …" (CME); a SIM800 board gets the CONNACK refusals (27-31) of the MQTT codes only. */
export function errorFileText(sim800: boolean): string {
  const lines: string[] = [];
  mqttTable().forEach(function (entry, code) {
    if (!sim800 || (code >= 27 && code <= 31)) lines.push('m' + code + ' ' + entry);
  });
  const cme = cmeTable();
  for (const code in cme) lines.push('c' + code + ' ' + cme[code]);
  return '\n' + lines.join('\n') + '\n';
}
