import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { resolveConfig, ConfigError, printableConfig } from '../buildlib/config.mjs';

describe('config.test.mjs', () => {
  const a76 = { id: 't-a7670x', modem: 'A76xx' };
  const hivemq = {
    broker: { preset: 'hivemq-cloud', host: 'abc123.s1.eu.hivemq.cloud', username: 'dev', password: 'Sup3r-secret' },
  };

  function problems(raw, board = a76) {
    try {
      resolveConfig(raw, { board });
    } catch (err) {
      assert.ok(err instanceof ConfigError, err.stack);
      return err.problems;
    }
    assert.fail('the config was accepted');
  }

  it('the HiveMQ Cloud preset gives TLS on 8883 with SNI and ISRG Root X1', () => {
    const c = resolveConfig(hivemq, { board: a76 });
    assert.equal(c.broker.port, 8883);
    assert.equal(c.broker.tls, true);
    assert.equal(c.broker.sni, true);
    assert.match(c.broker.caPem, /^-----BEGIN CERTIFICATE-----/);
    assert.match(c.broker.caName, /^ca-[0-9a-f]{8}\.pem$/);
    assert.equal(c.topics.telemetry, 'cellpub/cellpub-t-a7670x/readings');
  });

  it('port 8884 (WebSocket) is refused with the reason', () => {
    const p = problems({ broker: { ...hivemq.broker, port: 8884 } });
    assert.ok(
      p.some((m) => /broker.port: 8884 is MQTT over secure WebSocket.*use 8883/.test(m)),
      p.join('\n'),
    );
  });

  it('HiveMQ Cloud without TLS is refused, and so is SNI off or missing credentials', () => {
    let p = problems({ broker: { host: 'abc.s2.eu.hivemq.cloud', port: 1883, tls: false, username: 'u', password: 'p' } });
    assert.ok(
      p.some((m) => /broker.tls: HiveMQ Cloud only accepts MQTT over TLS/.test(m)),
      p.join('\n'),
    );
    p = problems({ broker: { ...hivemq.broker, sni: false } });
    assert.ok(p.some((m) => /broker.sni/.test(m)));
    p = problems({ broker: { preset: 'hivemq-cloud', host: 'abc.s1.eu.hivemq.cloud' } });
    assert.ok(p.some((m) => /HiveMQ Cloud requires the credentials/.test(m)));
  });

  it('schema errors name the field and what is allowed', () => {
    const p = problems({ broker: { host: 'h', keepalive: 5, colour: 'red' }, qos: 2, intervalSeconds: 'often' });
    assert.ok(
      p.includes(
        'broker.colour: unknown setting; allowed here: preset, host, hub, deviceId, deviceKey, clientCert, clientKey, tokenSeconds, port, tls, sni, tlsStack, allowUnknownTime, username, password, ca, clientId, keepalive, cleanSession',
      ),
      p.join('\n'),
    );
    assert.ok(p.some((m) => m.startsWith('broker.keepalive: must be a whole number from 10 to 64800, got 5')));
    assert.ok(p.some((m) => m.startsWith('qos: must be a whole number from 0 to 1')));
    assert.ok(p.some((m) => m.startsWith('intervalSeconds: must be a whole number from 10 to 86400')));
    assert.ok(problems({}).some((m) => m.startsWith('broker: missing')));
  });

  it('secrets never appear in error messages', () => {
    const p = problems({ broker: { ...hivemq.broker, password: 42 }, simPin: 'abc' });
    const all = p.join('\n');
    assert.match(all, /broker.password: must be a string, got \(hidden\)/);
    assert.match(all, /simPin: .* got \(hidden\)/);
    const masked = JSON.stringify(printableConfig(resolveConfig({ ...hivemq, simPin: '1234' }, { board: a76 })));
    assert.ok(!masked.includes('Sup3r-secret') && !masked.includes('1234'));
  });

  it('strings that would break an AT command are refused', () => {
    const p = problems({ broker: { host: 'h', username: 'a"b', password: 'x' } });
    assert.ok(p.some((m) => /broker.username: must not contain double quotes/.test(m)));
  });

  it('wildcards in topics are refused; {clientId} is filled in', () => {
    const p = problems({ broker: { host: 'h' }, topics: { telemetry: 'a/#', command: 'c', status: 's' } });
    assert.ok(p.some((m) => /topics.telemetry: must not contain the wildcards/.test(m)));
    const c = resolveConfig(
      { broker: { host: 'h', clientId: 'dev1' }, topics: { telemetry: 't/{clientId}', command: 'c/{clientId}', status: 's' } },
      { board: a76 },
    );
    assert.equal(c.topics.telemetry, 't/dev1');
  });

  it('a config for another board stops the build', () => {
    assert.ok(problems({ board: 't-sim7670g-s3', broker: { host: 'h' } }).some((m) => /make them match/.test(m)));
  });

  const sim800 = { id: 't-call-sim800l', title: 'LilyGO T-Call SIM800L (IP5306)', modem: 'SIM800' };

  it("the T-Call SIM800L takes plain MQTT, the modem's TLS 1.0 without SNI or CA when tlsStack says modem, and cellpub's TLS 1.2 otherwise", () => {
    const c = resolveConfig({ broker: { host: 'broker.example.org', port: 1883 } }, { board: sim800 });
    assert.equal(c.broker.tls, false);
    assert.equal(c.broker.sni, false, 'the SIM800 sends no server name');
    assert.equal(c.broker.tlsStack, undefined, 'no TLS code for plain MQTT');
    const t = resolveConfig({ broker: { host: 'broker.example.org', tls: true, tlsStack: 'modem' } }, { board: sim800 });
    assert.deepEqual([t.broker.tls, t.broker.port, t.broker.sni, t.broker.caPem, t.broker.tlsStack], [true, 8883, false, undefined, undefined]);
    const own = resolveConfig({ broker: { host: 'broker.example.org', tls: true, ca: 'isrg-root-x1' } }, { board: sim800 });
    assert.deepEqual([own.broker.tls, own.broker.port, own.broker.sni, own.broker.tlsStack], [true, 8883, true, 'cellpub']);
    assert.match(own.broker.caPem, /BEGIN CERTIFICATE/);
    assert.equal(own.broker.anyTime, undefined, 'dates are checked unless the config says otherwise');
    const anyTime = resolveConfig({ broker: { host: 'broker.example.org', tls: true, ca: 'isrg-root-x1', allowUnknownTime: true } }, { board: sim800 });
    assert.equal(anyTime.broker.anyTime, true);
  });

  it("HiveMQ Cloud on the T-Call SIM800L builds with cellpub's TLS 1.2; the modem's TLS, Azure IoT Hub and TLS without a CA stop the build, saying why", () => {
    const hive = resolveConfig({ broker: { preset: 'hivemq-cloud', host: 'abc.s1.eu.hivemq.cloud', username: 'u', password: 'p' } }, { board: sim800 });
    assert.deepEqual([hive.broker.port, hive.broker.tls, hive.broker.sni, hive.broker.tlsStack], [8883, true, true, 'cellpub']);
    assert.match(hive.broker.caPem, /BEGIN CERTIFICATE/, 'the preset brings ISRG Root X1');
    const modem = problems({ broker: { preset: 'hivemq-cloud', host: 'abc.s1.eu.hivemq.cloud', username: 'u', password: 'p', tlsStack: 'modem' } }, sim800);
    assert.equal(modem.length, 1, modem.join('\n'));
    assert.match(modem[0], /HiveMQ Cloud on t-call-sim800l needs TLS 1\.2 with SNI, .*TLS 1\.0 and sends no server name \(SNI\); leave broker\.tlsStack out/);
    assert.ok(
      problems({ broker: { host: 'abc.s1.eu.hivemq.cloud', port: 8884, tls: true } }, sim800).some((m) => /8884 is MQTT over secure WebSocket/.test(m)),
      'port 8884 is WebSocket on every board',
    );
    assert.ok(problems({ broker: { preset: 'hivemq-cloud', host: 'abc.s1.eu.hivemq.cloud' } }, sim800).some((m) => /requires the credentials/.test(m)));
    const az = problems(
      { broker: { preset: 'azure-iot-hub', hub: 'my-hub', deviceId: 'dev-1', deviceKey: Buffer.from('0123456789abcdef0123456789abcdef').toString('base64') } },
      sim800,
    );
    assert.equal(az.length, 1, az.join('\n'));
    assert.match(az[0], /Azure IoT Hub on t-call-sim800l is not supported: .*TLS 1\.0 .*not been tested with Azure yet; use an A76xx board/);
    const noCa = problems({ broker: { host: 'b.example.org', tls: true } }, sim800);
    assert.ok(
      noCa.some((m) => /^broker\.ca: cellpub's TLS 1\.2 checks the server's certificate: give the root CA .* or set broker\.tlsStack to "modem"/.test(m)),
      noCa.join('\n'),
    );
    const sni = problems({ broker: { host: 'b.example.org', tls: true, sni: true, ca: 'isrg-root-x1', tlsStack: 'modem' } }, sim800);
    assert.ok(
      sni.some((m) => /^broker\.sni: .*sends no server name \(SNI\); set sni to false/.test(m)),
      sni.join('\n'),
    );
    assert.ok(
      sni.some((m) => /^broker\.ca: .*does not check the server against a CA; remove broker\.ca/.test(m)),
      sni.join('\n'),
    );
    assert.ok(
      problems({ broker: { host: 'b.example.org', tls: true, sni: false, ca: 'isrg-root-x1' } }, sim800).some((m) =>
        /^broker\.sni: cellpub's TLS always sends/.test(m),
      ),
    );
    assert.ok(
      problems({ broker: { host: 'b.example.org', port: 1883, tlsStack: 'cellpub' } }, sim800).some((m) => /^broker\.tlsStack: only used with TLS/.test(m)),
    );
    assert.ok(problems({ broker: { host: 'b.example.org', port: 8884 } }, sim800).some((m) => /8884 is MQTT over secure WebSocket/.test(m)));
  });

  it('tlsStack and allowUnknownTime are refused on A76xx boards, whose modem speaks TLS 1.2 itself', () => {
    assert.ok(
      problems({ board: 't-a7670x', broker: { host: 'b.example.org', tls: true, tlsStack: 'cellpub' } }).some((m) =>
        /^broker\.tlsStack: only for SIM800 boards/.test(m),
      ),
    );
    assert.ok(
      problems({ board: 't-a7670x', broker: { host: 'b.example.org', tls: true, allowUnknownTime: true } }).some((m) =>
        /^broker\.allowUnknownTime: only for cellpub's TLS 1\.2 on SIM800 boards/.test(m),
      ),
    );
  });

  const azureKey = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
  const azure = { broker: { preset: 'azure-iot-hub', hub: 'my-hub', deviceId: 'dev-1', deviceKey: azureKey } };

  it('the Azure IoT Hub preset fills in host, TLS, SNI, client id, user name, topics and both roots', () => {
    const c = resolveConfig(azure, { board: a76 });
    assert.equal(c.broker.host, 'my-hub.azure-devices.net');
    assert.equal(c.broker.port, 8883);
    assert.equal(c.broker.clientId, 'dev-1');
    assert.equal(c.broker.username, 'my-hub.azure-devices.net/dev-1/?api-version=2021-04-12');
    assert.equal(c.broker.password, undefined, 'no static password: the device makes SAS tokens');
    assert.deepEqual(c.broker.azure, { resource: 'my-hub.azure-devices.net/devices/dev-1', tokenS: 3600, key: azureKey });
    assert.equal(c.topics.telemetry, 'devices/dev-1/messages/events/$.ct=application%2Fjson&$.ce=utf-8');
    assert.equal(
      (c.broker.caPem.match(/BEGIN CERTIFICATE/g) || []).length,
      1,
      'DigiCert Global Root G2 alone: with Microsoft RSA Root CA 2017 the file is over the 3072 bytes of one CCERTDOWN packet',
    );
    assert.ok(c.broker.caPem.length <= 3072);
    assert.ok(!JSON.stringify(printableConfig(c)).includes(azureKey));
  });

  it('Azure rules are enforced at build time with the reason', () => {
    const msg = (over) => problems({ ...azure, broker: { ...azure.broker, ...over } }).join('\n');
    assert.match(msg({ keepalive: 1800 }), /broker.keepalive: Azure IoT Hub drops a client after 1.5 × keepalive, capped at 1767 s, so at most 1177/);
    assert.match(msg({ port: 1883 }), /broker.port: Azure IoT Hub takes MQTT over TLS on 8883 only/);
    assert.match(msg({ sni: false }), /broker.sni: keep SNI on/);
    assert.match(msg({ password: 'x' }), /broker.password: Azure IoT Hub credentials are made on the device/);
    assert.match(msg({ deviceKey: 'not base64!' }), /broker.deviceKey: must be the base64 key shown in the hub.*got \(hidden\)/);
    assert.match(msg({ deviceKey: undefined }), /broker.deviceKey: missing; give the device key \(SAS\) or broker.clientCert/);
    assert.match(msg({ clientCert: 'a.pem', clientKey: 'b.pem' }), /give one way to authenticate/);
    assert.match(problems({ ...azure, qos: 2 }).join('\n'), /qos: must be a whole number from 0 to 1/);
    assert.match(problems({ ...azure, topics: { telemetry: 'x', command: 'y', status: 'z' } }).join('\n'), /topics: Azure IoT Hub fixes the topics/);
    assert.ok(!msg({ deviceKey: 'not base64!' }).includes('not base64!'), 'the key is never echoed');
  });

  it('a secret written as "${NAME}" comes from the environment, and a missing variable is named, not guessed', () => {
    const raw = { broker: { host: 'b.example.org', username: 'u', password: '${CELLPUB_TEST_PW}' }, simPin: '${CELLPUB_TEST_PIN}' };
    const c = resolveConfig(raw, { board: a76, env: { CELLPUB_TEST_PW: 's3cret!', CELLPUB_TEST_PIN: '4321' } });
    assert.equal(c.broker.password, 's3cret!');
    assert.equal(c.simPin, '4321');
    let err;
    try {
      resolveConfig(raw, { board: a76, env: { CELLPUB_TEST_PIN: '4321' } });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems, ['broker.password: the environment variable CELLPUB_TEST_PW is not set (the config asks for it with "${CELLPUB_TEST_PW}")']);
  });

  // ---------------------------------------------------------------- pins (issue 10, finding 1)

  // boards/t-sim7670g-s3.ts as it was before issue 10: the sensor's SDA on GPIO3, which LilyGO's pin
  // table for this board lists as the modem's RING (docs/en/esp32s3/sim7670g-s3/REAMDE.MD)
  const s3Before = {
    id: 't-sim7670g-s3',
    title: 'LilyGO T-SIM7670G-S3',
    modem: 'A76xx',
    modemModel: 'SIM7670G-MNGV',
    uart: { port: 'Serial2', rx: 10, tx: 11, baud: 115200 },
    reset: { pin: 17, activeLevel: 0 },
    pwrkey: { pin: 18, inverted: true, onPulseMs: 100, offPulseMs: 3000 },
    powerUp: [
      ['reset', 1, 0],
      ['dtr', 0, 0],
      ['pwrkey', 0, 100],
      ['pwrkey', 1, 100],
      ['pwrkey', 0, 0],
    ],
    bootMaxMs: 30000,
    i2c: { sda: 3, scl: 2 },
    dtr: 9,
    documented: { ri: 3, led: { pin: 12, onLevel: 0 }, battery: { pin: 4, divider: 2 } },
  };

  it("pins: one GPIO, one role; the T-SIM7670G-S3's old pin map (SDA on GPIO3, the modem's RING) stops the build, naming the pin and both roles", () => {
    const p = problems({ broker: { host: 'h' } }, s3Before);
    assert.ok(
      p.includes(
        "GPIO3 has two roles on t-sim7670g-s3: the modem's RI (ring) (documented.ri in boards/t-sim7670g-s3.ts) and the sensor I2C SDA (i2c.sda in boards/t-sim7670g-s3.ts); fix boards/t-sim7670g-s3.ts, or put the sensor on free pins with sensors.i2c in the config",
      ),
      p.join('\n'),
    );
    // the same board with the sensor moved by the config builds
    const c = resolveConfig({ broker: { host: 'h' }, sensors: { i2c: { sda: 2, scl: 1 } } }, { board: s3Before });
    assert.equal(c.broker.host, 'h');
    // powerUp may only drive the modem's control pins
    const bad = { ...s3Before, i2c: { sda: 2, scl: 1 }, powerUp: [...s3Before.powerUp, ['led', 1, 0]] };
    assert.deepEqual(problems({ broker: { host: 'h' } }, bad), [
      `powerUp step 6 ["led",1,0] in boards/t-sim7670g-s3.ts: "led" is not a modem control pin a power-up may drive; use one of 'powerOn', 'reset', 'pwrkey', 'dtr'`,
    ]);
  });

  // ------------------------------------------- board data single-sourced (issue 11): power-up pins

  it('powerUp steps name their pins by role; a step naming a pin the board does not have, or a GPIO by number, stops the build, naming the board, the step and what to change', async () => {
    const { loadBoard } = await import('../build.mjs');
    const { resolveBoard } = await import('../buildlib/pins.mjs');
    const board = await loadBoard('t-call-a7670-v1_1'); // no POWER_ON pin: the modem rail is always fed
    const ok = { broker: { host: 'h' } };
    resolveConfig(ok, { board });
    assert.deepEqual(
      resolveBoard(board).powerUp,
      [
        [5, 1, 0],
        [32, 0, 0],
        [4, 0, 100],
        [4, 1, 100],
        [4, 0, 0],
      ],
      'reset.pin, dtr, pwrkey.pin',
    );

    const noRail = { ...board, powerUp: [['powerOn', 1, 0], ...board.powerUp] };
    const want =
      'powerUp step 1 ["powerOn",1,0] in boards/t-call-a7670-v1_1.ts: names \'powerOn\', but boards/t-call-a7670-v1_1.ts has no powerOn; add powerOn (its GPIO number) to the board, or remove the step';
    assert.deepEqual(problems(ok, noRail), [want]);
    assert.throws(() => resolveBoard(noRail), { message: want }, 'never a step with an undefined pin in the bundle');

    const { dtr, ...noDtr } = board;
    assert.deepEqual(problems(ok, noDtr), [
      'powerUp step 2 ["dtr",0,0] in boards/t-call-a7670-v1_1.ts: names \'dtr\', but boards/t-call-a7670-v1_1.ts has no dtr; add dtr (its GPIO number) to the board, or remove the step',
    ]);

    // the number written a second time is what the gate is for
    const byNumber = { ...board, powerUp: [[5, 1, 0], ...board.powerUp.slice(1)] };
    assert.deepEqual(problems(ok, byNumber), [
      "powerUp step 1 [5,1,0] in boards/t-call-a7670-v1_1.ts: names GPIO5 by its number; name the pin by its role ('reset') so its number is written once, in reset.pin",
    ]);
    const badLevel = { ...board, powerUp: [['reset', 2, -1]] };
    assert.deepEqual(problems(ok, badLevel), [
      'powerUp step 1 ["reset",2,-1] in boards/t-call-a7670-v1_1.ts: the level must be 0 or 1',
      'powerUp step 1 ["reset",2,-1] in boards/t-call-a7670-v1_1.ts: the wait must be a whole number of milliseconds, 0 or more',
    ]);
  });

  it('sensors.i2c moves the sensor to other pins; a pin the board gives the modem, or SDA = SCL, is refused naming both roles', async () => {
    const { loadBoard } = await import('../build.mjs');
    const { configuredBoard } = await import('../buildlib/config.mjs');
    const board = await loadBoard('t-a7670x');
    const raw = { broker: { host: 'h' }, sensors: { i2c: { sda: 18, scl: 19 } } };
    assert.deepEqual(resolveConfig(raw, { board }).bme280, { address: 0x76 }, 'the sensor whose pins they are is still there');
    assert.deepEqual(configuredBoard(board, raw).i2c, { sda: 18, scl: 19 });
    assert.deepEqual(board.i2c, { sda: 21, scl: 22 }, 'the board object itself is left alone');
    assert.deepEqual(configuredBoard(board, { broker: { host: 'h' } }).i2c, { sda: 21, scl: 22 }, 'without sensors.i2c: the board file pins');

    let p = problems({ broker: { host: 'h' }, sensors: { i2c: { sda: 33, scl: 22 } } }, board);
    assert.deepEqual(p, [
      "GPIO33 has two roles on t-a7670x: the modem's RI (ring) (documented.ri in boards/t-a7670x.ts) and the sensor I2C SDA (sensors.i2c.sda in the config); move sensors.i2c.sda to a pin the board leaves free",
    ]);
    p = problems({ broker: { host: 'h' }, sensors: { i2c: { sda: 21, scl: 26 } } }, board);
    assert.match(
      p.join('\n'),
      /GPIO26 has two roles on t-a7670x: the modem UART's ESP32 TX \(uart\.tx in boards\/t-a7670x\.ts\) and the sensor I2C SCL \(sensors\.i2c\.scl in the config\)/,
    );
    p = problems({ broker: { host: 'h' }, sensors: { i2c: { sda: 18, scl: 18 } } }, board);
    assert.match(
      p.join('\n'),
      /GPIO18 has two roles on t-a7670x: the sensor I2C SDA \(sensors\.i2c\.sda in the config\) and the sensor I2C SCL \(sensors\.i2c\.scl in the config\)/,
    );
    assert.match(problems({ broker: { host: 'h' }, sensors: { i2c: { sda: 18 } } }, board).join('\n'), /sensors\.i2c\.scl: missing/);
    assert.match(
      problems({ broker: { host: 'h' }, sensors: { i2c: { sda: 60, scl: 19 } } }, board).join('\n'),
      /sensors\.i2c\.sda: must be a whole number from 0 to 48/,
    );
  });

  it("sensors.i2c on the T-Call SIM800L: the IP5306 shares the sensor's bus on fixed pins, so other pins are refused", async () => {
    const { loadBoard } = await import('../build.mjs');
    const board = await loadBoard('t-call-sim800l');
    const p = problems({ broker: { host: 'h' }, sensors: { i2c: { sda: 18, scl: 19 } } }, board);
    assert.match(p.join('\n'), /sensors\.i2c: on t-call-sim800l the IP5306 power chip is wired to SDA 21 \/ SCL 22/);
    resolveConfig({ broker: { host: 'h' }, sensors: { i2c: { sda: 21, scl: 22 } } }, { board });
  });

  // ---------------------------------------------------- A76xx MQTT limits (issue 10, finding 17)

  it('A76xx: a user name or password over 256 bytes is refused (AT+CMQTTCONNECT takes 1 to 256 bytes each), without showing the password', () => {
    const p = problems({ broker: { host: 'b.example.org', username: 'u'.repeat(257), password: 'P'.repeat(300) } });
    assert.ok(
      p.some((m) => /^broker\.username: 257 bytes; the A76xx modem's MQTT \(AT\+CMQTTCONNECT\) takes a user name of 1 to 256 bytes/.test(m)),
      p.join('\n'),
    );
    assert.ok(
      p.some((m) => /^broker\.password: 300 bytes; the A76xx modem's MQTT \(AT\+CMQTTCONNECT\) takes a password of 1 to 256 bytes/.test(m)),
      p.join('\n'),
    );
    assert.ok(!p.join('\n').includes('PPPP'), 'the password is never shown');
    // bytes, not characters: 129 × 'é' is 258 bytes in UTF-8
    assert.match(problems({ broker: { host: 'b.example.org', username: 'é'.repeat(129) } }).join('\n'), /broker\.username: 258 bytes/);
    // 256 is allowed
    resolveConfig({ broker: { host: 'b.example.org', username: 'u'.repeat(256), password: 'P'.repeat(256) } }, { board: a76 });
    // the SIM800 boards speak MQTT themselves (MQTT 3.1.1 strings are up to 65535 bytes): no limit here
    resolveConfig({ broker: { host: 'b.example.org', username: 'u'.repeat(300), password: 'P'.repeat(1000) } }, { board: sim800 });
  });

  it('A76xx: the server address "tcp://host:port" must fit the 9 to 256 bytes of AT+CMQTTCONNECT; the client id the 1 to 128 of AT+CMQTTACCQ', () => {
    const host = 'a'.repeat(63) + '.' + 'b'.repeat(63) + '.' + 'c'.repeat(63) + '.' + 'd'.repeat(50) + '.org'; // 246 characters
    const p = problems({ broker: { host } });
    assert.ok(
      p.some((m) =>
        /^broker\.host: "tcp:\/\/a+\.b+\.c+\.d+\.org:1883" is 257 bytes; the A76xx modem's AT\+CMQTTCONNECT takes a server address of 9 to 256/.test(m),
      ),
      p.join('\n'),
    );
    resolveConfig({ broker: { host } }, { board: sim800 });
    assert.match(
      problems({ broker: { host: 'h', clientId: 'c'.repeat(129) } }).join('\n'),
      /broker\.clientId: must be a string \(1 to 128 printable ASCII characters\)/,
    );
  });

  it('Azure: the SAS token the device sends as password is at most 176 bytes + the encoded resource; a hub + device id that can pass 256 is refused, X.509 is not', async () => {
    const az = (deviceId, hub = 'my-hub') => ({ broker: { preset: 'azure-iot-hub', hub, deviceId, deviceKey: azureKey } });
    // the realistic case: a long hub name and a long device name
    assert.match(problems(az('warehouse-7-cold-room-sensor-node-0042', 'contoso-production-iot-hub-westeurope')).join('\n'), /can be 282 bytes/);
    const { azureSasMaxBytes } = await import('../buildlib/config.mjs');
    const { SharedAccessSignature, encodeUriComponentStrict } = (await import('azure-iot-common')).default;
    const { randomBytes } = await import('node:crypto');
    // the bound against real tokens (the SDK's, which the firmware matches byte for byte:
    // test/azure-sas.test.mjs): the fixed part is exact, and the signature part is its worst case
    for (const [hub, id] of [
      ['my-hub', 'dev-1'],
      ['h'.repeat(50), "d:e@v(1)!*'"],
      ['abc', 'x'],
    ]) {
      const host = `${hub}.azure-devices.net`;
      const bound = azureSasMaxBytes(host, id);
      for (let i = 0; i < 50; i++) {
        const sr = encodeUriComponentStrict(`${host}/devices/${id}`);
        const token = SharedAccessSignature.create(sr, undefined, randomBytes(32).toString('base64'), 1799999999 + i).toString();
        const sig = /&sig=([^&]*)/.exec(token)[1];
        assert.equal(bound, token.length - sig.length + 132, `${hub}/${id}: fixed part + 43 × 3 (+ / as %2B %2F) + 3 (= as %3D)`);
      }
    }
    assert.equal(azureSasMaxBytes('my-hub.azure-devices.net', 'd'.repeat(43)), 256);

    resolveConfig(az('d'.repeat(43)), { board: a76 });
    let p = problems(az('d'.repeat(44)));
    assert.equal(p.length, 1, p.join('\n'));
    assert.match(p[0], /^broker\.deviceId: with hub "my-hub" and this device id the SAS token the device sends as MQTT password can be 257 bytes/);
    assert.match(p[0], /AT\+CMQTTCONNECT\) takes a password of 1 to 256 bytes: shorten the hub name or device id by 1 byte/);
    assert.match(p[0], /or authenticate with an X\.509 certificate \(broker\.clientCert \+ broker\.clientKey\)/);
    // characters the token URL-encodes count 3: 41 + ':' (%3A) + 'd' = 45 > 43
    assert.match(problems(az('d'.repeat(41) + ':d')).join('\n'), /can be 258 bytes/);
    // X.509 sends no password: the same names are fine
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'cellpub-x509-'));
    writeFileSync(join(dir, 'c.pem'), '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'k.pem'), '-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n');
    const x509 = {
      broker: {
        preset: 'azure-iot-hub',
        hub: 'contoso-production-iot-hub-westeurope',
        deviceId: 'warehouse-7-cold-room-sensor-node-0042',
        clientCert: 'c.pem',
        clientKey: 'k.pem',
      },
    };
    assert.equal(resolveConfig(x509, { board: a76, baseDir: dir }).broker.password, undefined);
  });
});
