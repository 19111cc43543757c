// Replays the AT commands of the three real A76xx captures in test/fixtures/transcripts into the
// simulator and checks that every answer has the same shape as the real modem's (own info lines,
// final result, async URC; see shapeOf in host/testing/transcripts.mjs).
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import { createClock } from '../host/runtime/clock.mjs';
import { createA76xx } from '../host/sim/a76xx/index.mjs';
import { createTestDevice, powerUp, makePki } from '../host/testing/test-device.mjs';
import { parseCapture, shapeOf, tokensOf, commandName, isAsyncCommand } from '../host/testing/transcripts.mjs';
import { board as tA7670 } from '../boards/t-a7670x.ts';
import { board as tSim7670 } from '../boards/t-sim7670g-s3.ts';

describe('sim-a76xx-replay.test.mjs', () => {
  const DIR = new URL('./fixtures/transcripts/', import.meta.url);
  // The SSL-socket (CCH*) and TCP keep-alive commands in field log a are outside the simulator.
  const NOT_SIMULATED = /^AT\+(CCH|CTCPKA)/;

  let broker;
  before(async () => {
    const pki = makePki(['xxxxxxx.azure-devices.net']);
    const aedes = await Aedes.createBroker();
    const server = tls.createServer({ key: pki.keyPem, cert: pki.certPem }, aedes.handle);
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    broker = { port: server.address().port, close: () => new Promise((r) => aedes.close(() => server.close(() => r()))) };
  });
  after(() => broker.close());

  async function replay({ file, board, opts = {}, precondition = [] }) {
    const clock = createClock();
    const dev = createTestDevice(clock);
    const modem = createA76xx({ clock, device: dev, board, ...opts });
    let all = ''; // everything the modem printed
    const grab = () => {
      const t = dev.host.take();
      all += t;
      return t;
    };
    const untilFinal = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n/;
    async function send(line, data) {
      let out = '';
      dev.host.write(line + '\r');
      const ok = await clock.runUntil(() => untilFinal.test((out += grab())) || /\r\n>$/.test(out), { timeoutMs: 30000, stepMs: 5 });
      assert.ok(ok, `${file}: no answer to ${line}\n${modem.transcript.text()}`);
      if (/\r\n>$/.test(out)) {
        dev.host.write(data + '\r\n'); // + CRLF as LilyGO's driver does (modem-facts §A.0)
        assert.ok(await clock.runUntil(() => untilFinal.test((out += grab())), { timeoutMs: 30000, stepMs: 5 }));
      }
      return out;
    }
    const waitFor = async (text, what) =>
      assert.ok(
        await clock.runUntil(() => (grab(), all.includes(text)), { timeoutMs: 60000, stepMs: 10 }),
        `${file}: ${what}: never saw ${text}\n${modem.transcript.text()}`,
      );

    // boot as LilyGO does: PWRKEY pulse, then AT once a second until OK (LG-AZ-LOG)
    await powerUp(clock, dev, board);
    let first = '';
    for (let i = 0; i < 30 && !/OK/.test(first); i++) {
      dev.host.write('AT\r');
      await clock.runFor(1000);
      first = grab();
    }
    assert.match(first, /\r\nOK\r\n/);
    for (const [line, waitText] of precondition) {
      if (waitText) await waitFor(waitText, 'precondition');
      await send(line);
    }

    const exchanges = parseCapture(fs.readFileSync(new URL(file, DIR), 'utf8'));
    const compared = [];
    // a leading 'AT' is the boot poll, already replayed above
    for (const ex of exchanges.filter((e, i) => !(i === 0 && e.command === 'AT'))) {
      if (NOT_SIMULATED.test(ex.command)) continue;
      const expected = shapeOf(ex.command, ex.tokens);
      const name = commandName(ex.command);
      const fi = ex.tokens.findIndex((t) => ['OK', 'ERROR', '+CME ERROR'].includes(t.name));
      // URCs the capture shows before this command's result arrived first on the real modem
      for (const t of ex.tokens.slice(0, fi < 0 ? undefined : fi)) if (t.name !== name && t.name !== '>') await waitFor(t.text, ex.command);
      const len = Number((/,(\d+)(?:,\d+)*$/.exec(ex.command) || [])[1]);
      const data = ex.data && ex.data.length === len ? ex.data : 'x'.repeat(len || 1); // captures elide long data
      let out = await send(ex.command, data);
      if (isAsyncCommand(ex.command) && /\r\nOK\r\n/.test(out)) {
        assert.ok(
          await clock.runUntil(() => new RegExp(`\\${name}: `).test((out += grab()).split('\r\nOK\r\n').slice(1).join('')), { timeoutMs: 60000, stepMs: 10 }),
          `${file}: no URC for ${ex.command}\n${modem.transcript.text()}`,
        );
      }
      // URCs the capture shows after the result (e.g. +CPIN: READY after the early CPIN error)
      if (fi >= 0) for (const t of ex.tokens.slice(fi + 1)) if (t.name !== name) await waitFor(t.text, ex.command);
      if (!expected) continue;
      const echo = ex.command + '\r';
      const body = out.startsWith(echo) ? out.slice(echo.length) : out;
      const got = shapeOf(ex.command, tokensOf(body.replace(/\r\n>/g, '\r\n')));
      compared.push(ex.command);
      assert.deepEqual(got, expected, `${file}: ${ex.command}\n${modem.transcript.text()}`);
    }
    assert.deepEqual(modem.errors, []);
    return { compared, modem };
  }

  it('A7670G Azure IoT Hub capture (LG-AZ-LOG)', async () => {
    const { compared } = await replay({
      file: 'a7670g-azure-iothub-2025-08-22.log',
      board: tA7670,
      opts: {
        // the capture shows +CGEV right after +CPIN: READY: the network attaches quickly
        network: { registrationMs: 300 },
        dns: { 'xxxxxxx.azure-devices.net': { host: '127.0.0.1', port: broker.port } },
      },
    });
    for (const c of ['AT+CMQTTREL=0', 'AT+CMQTTSTART', 'AT+CMQTTDISC?', 'AT+CMQTTSUB=0,39,0,0', 'AT+CPIN?']) assert.ok(compared.includes(c), c);
    assert.ok(compared.some((c) => c.startsWith('AT+CMQTTCONNECT=')));
  });

  it('SIM7670G field capture a: service left running by an earlier session, ssl:// URL', async () => {
    const { compared } = await replay({
      file: 'sim7670g-azure-field-2024-08-a.log',
      board: tSim7670,
      opts: { revision: 'V1.9.01', network: { regStat: 5 } },
      // START -> ERROR and ACCQ -> ERROR but SSLCFG -> OK in the capture: the MQTT service and
      // client 0 were still up from the program's previous run (the modem was not rebooted)
      precondition: [
        ['AT+CMQTTSTART', '+CGEV: ME PDN ACT'],
        ['AT+CMQTTACCQ=0,"DEVICE",1', '+CMQTTSTART: 0'],
      ],
    });
    for (const c of ['AT+CMQTTSTART', 'AT+CMQTTACCQ=0,"DEVICE",1', 'AT+CMQTTSSLCFG=0,0', 'AT+CREG?', 'AT+CCLK?']) assert.ok(compared.includes(c), c);
    assert.ok(compared.some((c) => c.startsWith('AT+CMQTTCONNECT=0,"ssl://')));
  });

  it('SIM7670G field capture b: REL never acquired, empty password', async () => {
    const { compared } = await replay({
      file: 'sim7670g-azure-field-2024-08-b.log',
      board: tSim7670,
      opts: { network: { regStat: 5 } },
      precondition: [['AT', '+CGEV: ME PDN ACT']],
    });
    for (const c of ['AT+CMQTTREL=0', 'AT+CMQTTSTART', 'AT+CREG?', 'AT+NETOPEN']) assert.ok(compared.includes(c), c);
    assert.ok(compared.some((c) => c.startsWith('AT+CCERTDOWN=')));
    assert.ok(compared.some((c) => c.startsWith('AT+CMQTTCONNECT=')));
  });
});
