// The firmware's line reader and AT engine, imported as TypeScript modules (unit level).
// End-to-end behaviour on the built bundle is in e2e-*.test.mjs.
import { describe, it } from 'mocha';
import { mock } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createLineReader } from '../firmware/at/reader.ts';
import { createAt, cmdName, lastNumber } from '../firmware/at/engine.ts';
import { errorText } from '../firmware/at/errors.ts';

describe('at-engine.test.mjs', () => {
  const TRANSCRIPTS = new URL('./fixtures/transcripts/', import.meta.url);
  globalThis.getTime = () => Date.now() / 1000; // Espruino's clock, as the engine reads it

  function collect(maxLine = 200) {
    const got = [];
    const r = createLineReader(
      (l) => got.push(l),
      () => got.push('<prompt>'),
      maxLine,
    );
    return { r, got };
  }

  it('reader: every way of splitting the stream gives the same lines', () => {
    const stream = '\r\n+CMQTTSTART: 0\r\nPB DONE\r\r\n\r\nOK\r\n+CSQ: 23,99\n';
    const want = ['+CMQTTSTART: 0', 'PB DONE', 'OK', '+CSQ: 23,99'];
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        const { r, got } = collect();
        r.feed(stream.slice(0, a));
        r.feed(stream.slice(a, b));
        r.feed(stream.slice(b));
        assert.deepEqual(got, want, `split at ${a},${b}`);
      }
    }
  });

  it('reader: the > prompt is reported without a line end, only when asked for', () => {
    const { r, got } = collect();
    r.feed('\r\n>');
    assert.deepEqual(got, ['>'].slice(0, 0), 'no prompt unless wanted');
    const second = collect();
    second.r.wantPrompt = true;
    second.r.feed('\r\n> ');
    assert.deepEqual(second.got, ['<prompt>']);
  });

  it('reader: raw blocks keep their CR/LF and the reader resumes lines after them', () => {
    const got = [];
    const r = createLineReader(
      (l) => {
        got.push(l);
        if (l.startsWith('+CMQTTRXPAYLOAD: 0,')) r.readRaw(Number(l.split(',')[1]), (d) => got.push(['raw', d]));
      },
      () => {},
      200,
    );
    const payload = 'a\r\nb\rc\n';
    const stream = `+CMQTTRXPAYLOAD: 0,${payload.length}\r\n${payload}\r\n+CMQTTRXEND: 0\r\n`;
    for (let i = 0; i < stream.length; i++) r.feed(stream[i]); // one byte at a time
    assert.deepEqual(got, [`+CMQTTRXPAYLOAD: 0,${payload.length}`, ['raw', payload], '+CMQTTRXEND: 0']);
  });

  it('reader: an over-long line is cut, the rest of it dropped, and the next line is intact', () => {
    const { r, got } = collect(16);
    r.feed('X'.repeat(40));
    r.feed('Y'.repeat(40) + '\r\nOK\r\n');
    assert.deepEqual(got, ['X'.repeat(16), 'OK']);
  });

  // A scripted modem: answers each command line with canned output.
  function rig(script) {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const logs = [];
    const sent = [];
    let at;
    const write = (d) => {
      sent.push(d);
      const reply = script(d, sent);
      if (reply) queueMicrotask(() => at.feed(reply));
    };
    at = createAt(write, (m) => logs.push(m));
    return { at, logs, sent, done: () => mock.timers.reset() };
  }

  function run(at, cmd) {
    return new Promise((resolve) => at.send({ ...cmd, cb: (err, lines) => resolve({ err, lines }) }));
  }

  it('engine: information lines, OK, and the command echo before ATE0', async () => {
    const r = rig((d) => (d === 'AT+CSQ\r' ? 'AT+CSQ\r\r\n+CSQ: 23,0\r\n\r\nOK\r\n' : null));
    const { err, lines } = await run(r.at, { at: 'AT+CSQ' });
    r.done();
    assert.equal(err, null);
    assert.deepEqual(lines, ['+CSQ: 23,0']);
  });

  it('engine: +CME ERROR carries code, meaning and hint', async () => {
    const r = rig(() => '\r\n+CME ERROR: 10\r\n');
    const { err } = await run(r.at, { at: 'AT+CPIN?' });
    r.done();
    assert.equal(err.kind, 'cme');
    assert.equal(err.code, 10);
    assert.match(errorText(err), /AT\+CPIN: CME error 10 \(SIM not inserted\): insert a SIM/);
  });

  it('engine: "+CMQTTREL: 0,20" before ERROR becomes MQTT error 20 (as in the A7670G capture)', async () => {
    const r = rig(() => '\r\n+CMQTTREL: 0,20\r\n\r\nERROR\r\n');
    const { err } = await run(r.at, { at: 'AT+CMQTTREL=0' });
    r.done();
    assert.deepEqual([err.kind, err.code, err.msg], ['mqtt', 20, 'client not acquired']);
  });

  it('engine: async result after OK, with URCs landing in between', async () => {
    const r = rig(() => '\r\nPB DONE\r\n\r\nSMS DONE\r\n\r\nOK\r\n\r\n+CMQTTCONNECT: 0,0\r\n');
    const urcs = [];
    r.at.on('PB DONE', (l) => urcs.push(l));
    const { err } = await run(r.at, { at: 'AT+CMQTTCONNECT=0,"tcp://h:8883",60,1', done: '+CMQTTCONNECT: 0,' });
    r.done();
    assert.equal(err, null);
    assert.deepEqual(urcs, ['PB DONE']);
  });

  it('engine: async failure code after OK, and sync failure code before ERROR', async () => {
    let r = rig(() => '\r\nOK\r\n\r\n+CMQTTCONNECT: 0,30\r\n');
    let { err } = await run(r.at, { at: 'AT+CMQTTCONNECT=0,"tcp://h:1",60,1,"u","secret-pw"', hide: true, done: '+CMQTTCONNECT: 0,' });
    r.done();
    assert.equal(err.code, 30);
    assert.match(errorText(err), /bad user name or password\): check broker.username/);
    assert.ok(!r.logs.join('\n').includes('secret-pw'), 'a hidden command never reaches the log');
    r = rig(() => '\r\n+CMQTTCONNECT: 0,3\r\n\r\nERROR\r\n');
    ({ err } = await run(r.at, { at: 'AT+CMQTTCONNECT=0,"tcp://10.0.0.1:1883",60,1', done: '+CMQTTCONNECT: 0,' }));
    r.done();
    assert.equal(err.code, 3);
  });

  it('engine: the async result may also come before OK (CMQTTDISC order)', async () => {
    const r = rig(() => '\r\n+CMQTTDISC: 0,0\r\n\r\nOK\r\n');
    const { err } = await run(r.at, { at: 'AT+CMQTTDISC=0,60', done: '+CMQTTDISC: 0,' });
    r.done();
    assert.equal(err, null);
  });

  it('engine: data goes out only after the > prompt, exactly as announced', async () => {
    const r = rig((d, sent) => {
      if (d === 'AT+CMQTTTOPIC=0,5\r') return '\r\n>';
      if (d === 'a/b/c') return '\r\nOK\r\n';
      return null;
    });
    const { err } = await run(r.at, { at: 'AT+CMQTTTOPIC=0,5', data: 'a/b/c' });
    r.done();
    assert.equal(err, null);
    assert.deepEqual(r.sent, ['AT+CMQTTTOPIC=0,5\r', 'a/b/c']);
  });

  it('engine: a command with no answer times out and the next one still runs', async () => {
    const r = rig((d) => (d === 'AT\r' ? '\r\nOK\r\n' : null));
    const first = run(r.at, { at: 'AT+CGATT?', ms: 1000 });
    const second = run(r.at, { at: 'AT' });
    mock.timers.tick(1000);
    const a = await first;
    mock.timers.tick(100); // the line must stay quiet a moment before the next command goes out
    const b = await second;
    r.done();
    assert.equal(a.err.kind, 'timeout');
    assert.equal(b.err, null);
  });

  it('engine: a late answer to a command that timed out is not taken by the next one', async () => {
    let answered = 0;
    const r = rig((d) => {
      if (d === 'AT+CPIN?\r') return answered++ ? '\r\n+CPIN: READY\r\n\r\nOK\r\n' : null;
      return null;
    });
    const first = run(r.at, { at: 'AT', ms: 200 });
    mock.timers.tick(200); // the modem was not listening yet
    await first;
    r.at.feed('\r\nOK\r\n'); // ...but it answers that AT after all, late
    const cpin = run(r.at, { at: 'AT+CPIN?' });
    answered = 1;
    mock.timers.tick(100);
    const c = await cpin;
    r.done();
    assert.equal(c.err, null);
    assert.deepEqual(c.lines, ['+CPIN: READY'], 'the late OK did not end AT+CPIN? early');
    assert.match(r.logs.join('\n'), /dropped a late OK/);
  });

  it('engine: a line nobody expects is logged and skipped', async () => {
    const r = rig(() => null);
    r.at.feed('\r\n+WHATEVER: 1\r\n');
    r.done();
    assert.match(r.logs.join('\n'), /skipped unexpected line: \+WHATEVER: 1/);
  });

  it('helpers: cmdName and lastNumber', () => {
    assert.equal(cmdName('AT+CMQTTCONNECT=0,"tcp://a:1"'), 'AT+CMQTTCONNECT');
    assert.equal(cmdName('AT+CEREG?'), 'AT+CEREG');
    assert.equal(lastNumber('+CMQTTPUB: 0,17'), 17);
    assert.equal(lastNumber('+CMQTTSTART: 0'), 0);
  });

  // ---- replay of real captures --------------------------------------------------------------
  // Each capture is cut into exchanges (a command the host sent, then what the modem printed up to
  // the next command). The engine gets the command, the modem lines are fed back, and the outcome
  // must be what the owner saw. Host prints mixed into the capture become unexpected lines: skipped.

  function exchanges(text) {
    const out = [];
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (/^AT/.test(line)) {
        if (out.length && out.at(-1).cmd === line && out.at(-1).modem.length === 0) continue; // echo copy
        out.push({ cmd: line, modem: [] });
      } else if (out.length && line) out.at(-1).modem.push(line);
    }
    return out;
  }

  async function replay(ex, opts = {}) {
    const r = rig(() => null);
    const result = run(r.at, { at: ex.cmd, ...opts });
    r.at.feed(ex.modem.map((l) => `\r\n${l}\r\n`).join(''));
    mock.timers.tick(100000);
    const out = await result;
    r.done();
    return out;
  }

  it('replay: the A7670G Azure capture decodes as the owner saw it', async () => {
    const ex = exchanges(readFileSync(new URL('a7670g-azure-iothub-2025-08-22.log', TRANSCRIPTS), 'utf8'));
    const find = (p) => ex.find((e) => e.cmd.startsWith(p));
    assert.equal((await replay(find('AT+CPIN?'))).err.code, 13);
    const cereg = await replay(find('AT+CEREG?'));
    assert.deepEqual(cereg.lines, ['+CEREG: 0,1']);
    assert.equal((await replay(find('AT+CMQTTSTART'), { done: '+CMQTTSTART: ' })).err, null);
    const rel = await replay(find('AT+CMQTTREL=0'));
    assert.deepEqual([rel.err.kind, rel.err.code], ['mqtt', 20]);
    assert.equal((await replay(find('AT+CMQTTACCQ'))).err, null);
    assert.equal((await replay(find('AT+CMQTTCONNECT='), { done: '+CMQTTCONNECT: 0,' })).err, null, 'PB DONE/SMS DONE inside the response');
    const disc = await replay(find('AT+CMQTTDISC?'));
    assert.deepEqual(disc.lines, ['+CMQTTDISC: 0,0', '+CMQTTDISC: 1,1']);
    const ati = await replay(find('AT+SIMCOMATI'));
    assert.ok(ati.lines.includes('Revision: A124B01A7670M7'));
  });

  it('replay: the SIM7670G field capture (b) fails where the owner failed', async () => {
    const ex = exchanges(readFileSync(new URL('sim7670g-azure-field-2024-08-b.log', TRANSCRIPTS), 'utf8'));
    const find = (p) => ex.find((e) => e.cmd.startsWith(p));
    assert.equal((await replay(find('AT+CMQTTSTART'), { done: '+CMQTTSTART: ' })).err, null);
    assert.equal((await replay(find('AT+CMQTTREL=0'))).err.code, 20);
    const conn = await replay(find('AT+CMQTTCONNECT='), { done: '+CMQTTCONNECT: 0,' });
    assert.deepEqual([conn.err.kind, conn.err.code], ['error', -1], 'bare ERROR: no reason given by the modem');
  });

  it('replay: the flattened SIM7670G capture (a) gives ERROR for CMQTTSTART and error 12 for ssl://', async () => {
    const text = readFileSync(new URL('sim7670g-azure-field-2024-08-a.log', TRANSCRIPTS), 'utf8');
    // the issue tracker flattened each exchange onto one line: "CMD answer… OK|ERROR"
    const unflatten = (line) => {
      const m = line.match(/^(AT\S*(?:"[^"]*"|[^ "])*) (.*)$/);
      if (!m) return null;
      return { cmd: m[1], modem: m[2].split(/ (?=\+[A-Z]+: |OK$|ERROR$)/) };
    };
    const ex = text
      .split(/\r?\n/)
      .map((l) => unflatten(l.trim()))
      .filter(Boolean);
    const find = (p) => ex.find((e) => e.cmd.startsWith(p));
    assert.equal((await replay(find('AT+CMQTTSTART'), { done: '+CMQTTSTART: ' })).err.kind, 'error');
    const conn = await replay(find('AT+CMQTTCONNECT='), { done: '+CMQTTCONNECT: 0,' });
    assert.deepEqual([conn.err.kind, conn.err.code], ['mqtt', 12]);
    assert.match(errorText(conn.err), /must start with tcp:\/\//);
    assert.deepEqual((await replay(find('AT+CREG?'))).lines, ['+CREG: 0,5']);
  });
});
