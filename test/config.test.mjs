import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig, ConfigError, maskSecrets } from '../buildlib/config.mjs';

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

test('the HiveMQ Cloud preset gives TLS on 8883 with SNI and ISRG Root X1', () => {
  const c = resolveConfig(hivemq, { board: a76 });
  assert.equal(c.broker.port, 8883);
  assert.equal(c.broker.tls, true);
  assert.equal(c.broker.sni, true);
  assert.match(c.broker.caPem, /^-----BEGIN CERTIFICATE-----/);
  assert.match(c.broker.caName, /^ca-[0-9a-f]{8}\.pem$/);
  assert.equal(c.topics.telemetry, 'cellpub/cellpub-t-a7670x/readings');
});

test('port 8884 (WebSocket) is refused with the reason', () => {
  const p = problems({ broker: { ...hivemq.broker, port: 8884 } });
  assert.ok(p.some((m) => /broker.port: 8884 is MQTT over secure WebSocket.*use 8883/.test(m)), p.join('\n'));
});

test('HiveMQ Cloud without TLS is refused, and so is SNI off or missing credentials', () => {
  let p = problems({ broker: { host: 'abc.s2.eu.hivemq.cloud', port: 1883, tls: false, username: 'u', password: 'p' } });
  assert.ok(p.some((m) => /broker.tls: HiveMQ Cloud only accepts MQTT over TLS/.test(m)), p.join('\n'));
  p = problems({ broker: { ...hivemq.broker, sni: false } });
  assert.ok(p.some((m) => /broker.sni/.test(m)));
  p = problems({ broker: { preset: 'hivemq-cloud', host: 'abc.s1.eu.hivemq.cloud' } });
  assert.ok(p.some((m) => /HiveMQ Cloud requires the credentials/.test(m)));
});

test('schema errors name the field and what is allowed', () => {
  const p = problems({ broker: { host: 'h', keepalive: 5, colour: 'red' }, qos: 2, intervalSeconds: 'often' });
  assert.ok(p.includes('broker.colour: unknown setting; allowed here: preset, host, hub, deviceId, deviceKey, clientCert, clientKey, tokenSeconds, port, tls, sni, username, password, ca, clientId, keepalive, cleanSession'), p.join('\n'));
  assert.ok(p.some((m) => m.startsWith('broker.keepalive: must be a whole number from 10 to 64800, got 5')));
  assert.ok(p.some((m) => m.startsWith('qos: must be a whole number from 0 to 1')));
  assert.ok(p.some((m) => m.startsWith('intervalSeconds: must be a whole number from 10 to 86400')));
  assert.ok(problems({}).some((m) => m.startsWith('broker: missing')));
});

test('secrets never appear in error messages', () => {
  const p = problems({ broker: { ...hivemq.broker, password: 42 }, simPin: 'abc' });
  const all = p.join('\n');
  assert.match(all, /broker.password: must be a string, got \(hidden\)/);
  assert.match(all, /simPin: .* got \(hidden\)/);
  const masked = JSON.stringify(maskSecrets(resolveConfig({ ...hivemq, simPin: '1234' }, { board: a76 })));
  assert.ok(!masked.includes('Sup3r-secret') && !masked.includes('1234'));
});

test('strings that would break an AT command are refused', () => {
  const p = problems({ broker: { host: 'h', username: 'a"b', password: 'x' } });
  assert.ok(p.some((m) => /broker.username: must not contain double quotes/.test(m)));
});

test('wildcards in topics are refused; {clientId} is filled in', () => {
  const p = problems({ broker: { host: 'h' }, topics: { telemetry: 'a/#', command: 'c', status: 's' } });
  assert.ok(p.some((m) => /topics.telemetry: must not contain the wildcards/.test(m)));
  const c = resolveConfig({ broker: { host: 'h', clientId: 'dev1' }, topics: { telemetry: 't/{clientId}', command: 'c/{clientId}', status: 's' } }, { board: a76 });
  assert.equal(c.topics.telemetry, 't/dev1');
});

test('a config for another board, or the SIM800L board for now, stops the build', () => {
  assert.ok(problems({ board: 't-sim7670g-s3', broker: { host: 'h' } }).some((m) => /make them match/.test(m)));
  assert.ok(problems({ broker: { host: 'h' } }, { id: 't-call-sim800l', modem: 'SIM800' }).some((m) => /SIM800L\) firmware is not available yet/.test(m)));
});
