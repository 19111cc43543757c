// MQTT 3.1.1 codec (firmware/mqtt-client/packet.ts) against mqtt-packet 9 (the codec of MQTT.js), both ways,
// with fast-check: packets mqtt-packet generates decode the same with our streaming parser fed in
// random chunkings, and packets we encode are byte-identical to mqtt-packet's and parse back to the
// same fields with its parser. Then remaining-length boundaries, malformed input, and a sample run
// in the host Espruino runtime and (with ESPRUINO_BIN) in the real interpreter, bundled as firmware.
// Run: node --import tsx --test test/mqtt-codec.test.mjs
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import * as ours from '../firmware/mqtt-client/packet.ts';
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { hasRealEspruino, runInRealEspruino } from '../host/espruino/real.mjs';
import { itUnless } from './skip.mjs';

describe('mqtt-codec.test.mjs', () => {
  const RUNS = Number(process.env.MQTT_FC_RUNS || 300);
  const bin = (buf) => Buffer.from(buf).toString('latin1'); // Buffer → binary string
  const buf = (s) => Buffer.from(s, 'latin1'); // binary string → Buffer
  const utf8Bin = (s) => bin(Buffer.from(s, 'utf8')); // a JS string's UTF-8 bytes as a binary string

  /** mqtt-packet's parser (3.1.1) over one buffer: { packets, errors } */
  function theirParse(b) {
    const p = mqttPacket.parser({ protocolVersion: 4 });
    const packets = [];
    const errors = [];
    p.on('packet', (x) => packets.push(x));
    p.on('error', (e) => errors.push(e.message));
    p.parse(b);
    return { packets, errors };
  }

  /** ours over a list of binary-string chunks: [{err} | packet] */
  function ourParse(chunks, max) {
    const out = [];
    const p = ours.createParser((err, x) => out.push(err ? { err } : x), max);
    let peak = 0;
    for (const c of chunks) {
      p.feed(c);
      peak = Math.max(peak, p.buffered());
    }
    return { out, peak, left: p.buffered() };
  }

  /** mqtt-packet's packet object → our shape (topic/payload as binary strings) */
  const CMD = { connack: 2, publish: 3, puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7, suback: 9, unsuback: 11, pingresp: 13 };
  function normalise(x) {
    const r = { type: CMD[x.cmd] };
    if (x.cmd === 'connack') Object.assign(r, { session: !!x.sessionPresent, code: x.returnCode });
    else if (x.cmd === 'publish') {
      Object.assign(r, { topic: utf8Bin(x.topic), payload: bin(x.payload), qos: x.qos, retain: !!x.retain, dup: !!x.dup });
      if (x.qos) r.id = x.messageId;
    } else if (x.cmd === 'suback') Object.assign(r, { id: x.messageId, granted: x.granted });
    else if (x.cmd !== 'pingresp') r.id = x.messageId;
    return r;
  }

  // ---------------------------------------------------------------- arbitraries
  const id = fc.integer({ min: 1, max: 65535 });
  const topic = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }));
  const asciiTopic = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 60 });
  const payload = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 100, maxLength: 5000 }));
  const serverPacket = fc.oneof(
    fc.record({ cmd: fc.constant('connack'), sessionPresent: fc.boolean(), returnCode: fc.integer({ min: 0, max: 255 }) }),
    fc.record({
      cmd: fc.constant('publish'),
      topic,
      payload: payload.map((u) => Buffer.from(u)),
      qos: fc.constant(0),
      retain: fc.boolean(),
      dup: fc.boolean(),
    }),
    fc.record({
      cmd: fc.constant('publish'),
      topic,
      payload: payload.map((u) => Buffer.from(u)),
      qos: fc.constantFrom(1, 2),
      messageId: id,
      retain: fc.boolean(),
      dup: fc.boolean(),
    }),
    fc.record({ cmd: fc.constantFrom('puback', 'pubrec', 'pubrel', 'pubcomp', 'unsuback'), messageId: id }),
    fc.record({ cmd: fc.constant('suback'), messageId: id, granted: fc.array(fc.constantFrom(0, 1, 2, 128), { minLength: 1, maxLength: 8 }) }),
    fc.record({ cmd: fc.constant('pingresp') }),
  );
  /** cut a binary string into chunks at random points */
  const chunked = (s) =>
    fc.array(fc.integer({ min: 0, max: s.length }), { maxLength: 12 }).map((cuts) => {
      const pts = [...new Set([0, ...cuts, s.length])].sort((a, b) => a - b);
      const out = [];
      for (let i = 1; i < pts.length; i++) out.push(s.slice(pts[i - 1], pts[i]));
      return out.length ? out : [''];
    });
  const streamOf = fc.array(serverPacket, { minLength: 1, maxLength: 6 }).chain((pkts) => {
    const bytes = bin(Buffer.concat(pkts.map((p) => mqttPacket.generate(p))));
    return chunked(bytes).map((chunks) => ({ pkts, bytes, chunks }));
  });

  // ---------------------------------------------------------------- mqtt-packet → ours
  it('server packets generated by mqtt-packet decode the same with ours, in any chunking', () => {
    fc.assert(
      fc.property(streamOf, ({ bytes, chunks }) => {
        const theirs = theirParse(buf(bytes));
        assert.deepEqual(theirs.errors, []);
        const r = ourParse(chunks, 8192);
        assert.deepEqual(r.out, theirs.packets.map(normalise));
        assert.equal(r.left, 0, 'nothing left over');
        assert.ok(r.peak <= 8192 + 5, `buffer peak ${r.peak}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(serverPacket, { minLength: 1, maxLength: 4 }), (pkts) => {
        const bytes = bin(Buffer.concat(pkts.map((p) => mqttPacket.generate(p))));
        assert.deepEqual(ourParse([...bytes], 8192).out, theirParse(buf(bytes)).packets.map(normalise));
      }),
      { numRuns: 50 },
    );
  });

  // ---------------------------------------------------------------- ours → mqtt-packet
  const connectOpts = fc
    .record(
      {
        clientId: fc.string({ unit: 'grapheme-ascii', minLength: 0, maxLength: 128 }),
        keepalive: fc.integer({ min: 0, max: 65535 }),
        clean: fc.boolean(),
        will: fc.record({ topic: asciiTopic, message: fc.uint8Array({ maxLength: 200 }).map(bin), qos: fc.constantFrom(0, 1, 2), retain: fc.boolean() }),
        username: fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
        password: fc.uint8Array({ maxLength: 300 }).map(bin),
      },
      { requiredKeys: ['clientId', 'keepalive', 'clean'] },
    )
    .filter((o) => o.clean || o.clientId !== ''); // MQTT-3.1.3-7: an empty client id needs a clean session (mqtt-packet refuses it)
  const clientPacket = fc.oneof(
    connectOpts.map((o) => ({ kind: 'connect', o })),
    fc.record({
      kind: fc.constant('publish'),
      topic: asciiTopic,
      payload: payload.map(bin),
      qos: fc.constantFrom(0, 1),
      id,
      retain: fc.boolean(),
      dup: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('puback'), id }),
    fc.record({
      kind: fc.constant('subscribe'),
      id,
      subs: fc.array(fc.record({ topic: asciiTopic, qos: fc.constantFrom(0, 1, 2) }), { minLength: 1, maxLength: 5 }),
    }),
    fc.record({ kind: fc.constant('unsubscribe'), id, topics: fc.array(asciiTopic, { minLength: 1, maxLength: 5 }) }),
    fc.record({ kind: fc.constantFrom('pingreq', 'disconnect') }),
  );

  /** [our bytes, mqtt-packet's object for the same packet] */
  function encodeBoth(c) {
    switch (c.kind) {
      case 'connect': {
        const o = c.o;
        const p = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: o.clean, keepalive: o.keepalive, clientId: o.clientId };
        if (o.will) p.will = { topic: o.will.topic, payload: buf(o.will.message), qos: o.will.qos, retain: o.will.retain };
        if (o.username !== undefined) p.username = o.username;
        // MQTT-3.1.2-22: a password only with a user name (ours leaves it out, mqtt-packet refuses)
        if (o.password !== undefined && o.username !== undefined) p.password = buf(o.password);
        return [ours.encodeConnect(o), p];
      }
      case 'publish': {
        const p = { cmd: 'publish', topic: c.topic, payload: buf(c.payload), qos: c.qos, retain: c.retain, dup: c.dup };
        if (c.qos) p.messageId = c.id;
        return [ours.encodePublish(c.topic, c.payload, c.qos, c.id, c.retain, c.dup), p];
      }
      case 'puback':
        return [ours.encodePuback(c.id), { cmd: 'puback', messageId: c.id }];
      case 'subscribe':
        return [
          ours.encodeSubscribe(
            c.id,
            c.subs.map((s) => s.topic),
            c.subs.map((s) => s.qos),
          ),
          { cmd: 'subscribe', messageId: c.id, subscriptions: c.subs.map((s) => ({ topic: s.topic, qos: s.qos })) },
        ];
      case 'unsubscribe':
        return [ours.encodeUnsubscribe(c.id, c.topics), { cmd: 'unsubscribe', messageId: c.id, unsubscriptions: c.topics }];
      case 'pingreq':
        return [ours.encodePingreq(), { cmd: 'pingreq' }];
      default:
        return [ours.encodeDisconnect(), { cmd: 'disconnect' }];
    }
  }

  /** the fields of mqtt-packet's parse result that the packet we meant to send determines */
  function expectedFields(p) {
    const r = { ...p };
    if (p.cmd === 'connect') {
      r.protocolId = 'MQTT';
      if (p.will) r.will = { ...p.will };
    }
    return r;
  }

  it('packets we encode are byte-identical to mqtt-packet.generate and parse back with its parser', () => {
    fc.assert(
      fc.property(clientPacket, (c) => {
        const [mine, p] = encodeBoth(c);
        assert.equal(typeof mine, 'string');
        assert.ok(!/[^\x00-\xff]/.test(mine), 'bytes only');
        assert.equal(buf(mine).toString('hex'), mqttPacket.generate(p).toString('hex'));
        const { packets, errors } = theirParse(buf(mine));
        assert.deepEqual(errors, []);
        assert.equal(packets.length, 1);
        const got = packets[0];
        const want = expectedFields(p);
        for (const k of Object.keys(want)) {
          if (k === 'will') {
            for (const w of Object.keys(want.will)) assert.deepEqual(got.will[w], want.will[w], `will.${w}`);
          } else assert.deepEqual(got[k], want[k], k);
        }
        assert.equal(got.length, mine.length - 1 - ours.encodeLength(got.length).length, 'remaining length');
      }),
      { numRuns: RUNS },
    );
  });

  // ---------------------------------------------------------------- remaining-length boundaries
  describe('remaining length at the varint boundaries', () => {
    const LENGTHS = [0, 1, 127, 128, 16383, 16384, 2097151, 2097152];
    it('encodeLength = the spec table (and mqtt-packet), up to 268,435,455', () => {
      const hex = (n) => buf(ours.encodeLength(n)).toString('hex');
      assert.equal(hex(0), '00');
      assert.equal(hex(127), '7f');
      assert.equal(hex(128), '8001');
      assert.equal(hex(16383), 'ff7f');
      assert.equal(hex(16384), '808001');
      assert.equal(hex(2097151), 'ffff7f');
      assert.equal(hex(2097152), '80808001');
      assert.equal(hex(268435455), 'ffffff7f');
    });

    for (const rl of LENGTHS.filter((n) => n >= 4)) {
      it(`PUBLISH with remaining length ${rl}: same bytes as mqtt-packet, decoded by ours and theirs`, () => {
        const t = 'a/b';
        const payloadBytes = Buffer.alloc(rl - 2 - t.length, 0xa5);
        payloadBytes[0] = 0;
        payloadBytes[payloadBytes.length - 1] = 0xff;
        const mine = ours.encodePublish(t, bin(payloadBytes), 0, 0, false, false);
        const theirs = mqttPacket.generate({ cmd: 'publish', topic: t, payload: payloadBytes, qos: 0 });
        assert.ok(buf(mine).equals(theirs), 'byte-identical');
        const lenBytes = rl < 128 ? 1 : rl < 16384 ? 2 : rl < 2097152 ? 3 : 4;
        assert.equal(mine.length, 1 + lenBytes + rl);
        // ours, fed in 3 uneven chunks (the header split in the middle of the varint)
        const chunks = [mine.slice(0, 2), mine.slice(2, 1000), mine.slice(1000)];
        const r = ourParse(chunks, rl);
        assert.equal(r.out.length, 1);
        assert.equal(r.out[0].err, undefined);
        assert.equal(r.out[0].topic, t);
        assert.ok(r.out[0].payload === bin(payloadBytes), 'payload');
        // one byte under the limit: reported and skipped, the next packet still decodes
        const r2 = ourParse([...chunks, ours.encodePuback(7)], rl - 1);
        assert.deepEqual(r2.out, [{ err: `packet of ${rl} bytes is over the limit of ${rl - 1}` }, { type: 4, id: 7 }]);
        assert.ok(r2.peak <= rl - 1 + 5, `buffer peak ${r2.peak}`);
      });
    }
  });

  // ---------------------------------------------------------------- malformed input
  describe('malformed input', () => {
    it('specific cases are reported, and the parser goes on (or resets)', () => {
      const cases = [
        { name: '5-byte remaining length', bytes: '\x30\xff\xff\xff\xff\x01', want: ['malformed remaining length'] },
        { name: 'PUBACK with flags', bytes: '\x42\x02\x00\x01', want: ['bad flags 2 for type 4'] },
        { name: 'PUBLISH QoS 3', bytes: '\x36\x03\x00\x01a', want: ['PUBLISH with QoS 3'] },
        { name: 'PUBLISH topic longer than the packet', bytes: '\x30\x03\x00\x05a', want: ['PUBLISH too short'] },
        { name: 'CONNACK flags', bytes: '\x20\x02\x02\x00', want: ['CONNACK flags 2'] },
        { name: 'CONNACK length 3', bytes: '\x20\x03\x00\x00\x00', want: ['CONNACK length 3'], lenient: true },
        { name: 'SUBACK code 3', bytes: '\x90\x03\x00\x01\x03', want: ['SUBACK code 3'] },
        { name: 'SUBACK without codes', bytes: '\x90\x02\x00\x01', want: ['SUBACK too short'], lenient: true },
        { name: 'PINGRESP with a body', bytes: '\xd0\x01\x00', want: ['PINGRESP length 1'], lenient: true },
        { name: 'a client packet (PINGREQ) from the server', bytes: '\xc0\x00', want: ['unexpected packet type 12'] },
        { name: 'type 0', bytes: '\x00\x00', want: ['unexpected packet type 0'] },
        { name: 'over the default limit of 4096', bytes: '\x30\x81\x20' + 'x'.repeat(4097), want: ['packet of 4097 bytes is over the limit of 4096'] },
      ];
      for (const c of cases) {
        // followed by a good PINGRESP: a packet of known length is skipped and the next one decodes
        const r = ourParse([c.bytes, '\xd0\x00']);
        const errs = r.out.filter((x) => x.err).map((x) => x.err);
        assert.deepEqual(errs, c.want, c.name);
        if (c.name !== '5-byte remaining length') assert.deepEqual(r.out.at(-1), { type: 13 }, c.name + ': recovers');
        assert.equal(r.left, 0, c.name);
        // mqtt-packet refuses most of these too; it has no length limit, takes client→server packets,
        // and is lenient about some lengths (marked), where 3.1.1 fixes them and ours is strict
        const theirErrors = theirParse(buf(c.bytes)).errors.length;
        if (c.lenient) assert.equal(theirErrors, 0, c.name + ' (mqtt-packet is lenient: if this changes, unmark it)');
        else if (!/client packet|over the default|type 0/.test(c.name)) assert.ok(theirErrors > 0, c.name + ' (mqtt-packet refuses it too)');
      }
    });

    it('random bytes in random chunks: never throws, the buffer stays under the cap', () => {
      const cap = 300;
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 700 }).map(bin), { maxLength: 20 }), (chunks) => {
          const p = ours.createParser(() => {}, cap);
          for (const c of chunks) {
            p.feed(c);
            assert.ok(p.buffered() <= cap + 5, `buffered ${p.buffered()}`);
          }
        }),
        { numRuns: RUNS },
      );
    });

    it('valid packets with random bytes flipped: never throws, bounded, and good packets after a reset decode', () => {
      fc.assert(
        fc.property(streamOf, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), ({ bytes }, flips) => {
          const b = [...bytes];
          for (const [i, v] of flips) b[i % b.length] = String.fromCharCode(v);
          const p = ours.createParser(() => {}, 512);
          p.feed(b.join(''));
          assert.ok(p.buffered() <= 512 + 5);
          p.reset();
          const got = [];
          const q = ours.createParser((e, x) => got.push(e || x), 512);
          q.feed('\xd0\x00');
          assert.deepEqual(got, [{ type: 13 }]);
          assert.equal(p.buffered(), 0);
        }),
        { numRuns: RUNS },
      );
    });
  });

  // ---------------------------------------------------------------- on the interpreter
  // A fixed sample (seeded), run through the bundle; only ASCII crosses the console (base64).
  const SAMPLE = fc.sample(streamOf, { numRuns: 25, seed: 4711 });
  const ENC_SAMPLE = fc.sample(clientPacket, { numRuns: 25, seed: 4712 }).concat([
    { kind: 'connect', o: { clientId: 'dev-1', keepalive: 60, clean: true, password: 'no user' } },
    {
      kind: 'connect',
      o: {
        clientId: 'dev-2',
        keepalive: 1177,
        clean: false,
        will: { topic: 'cellpub/dev-2/status', message: 'offline\x00\xff', qos: 1, retain: true },
        username: 'hub/dev-2',
        password: 'SharedAccessSignature sr=x&sig=y',
      },
    },
    { kind: 'publish', topic: 'cellpub/dev-2/readings', payload: '\x00\x80\xff'.repeat(2000), qos: 1, id: 65535, retain: false, dup: true },
  ]);
  const b64 = (s) => buf(s).toString('base64');
  const HELPERS =
    'global.__dec=function(chunks,max){var out=[];var p=createParser(function(e,x){if(e)out.push({err:e});' +
    'else{if(x.topic!==undefined){x.topic=btoa(x.topic);x.payload=btoa(x.payload);}out.push(x);}},max);' +
    'for(var i=0;i<chunks.length;i++)p.feed(atob(chunks[i]));out.push(p.buffered());return JSON.stringify(out);};1';
  const decCall = (chunks, max = 8192) => `__dec(${JSON.stringify(chunks.map(b64))},${max})`;
  /** what __dec returns, computed in Node */
  function decWant(chunks, max = 8192) {
    const r = ourParse(chunks, max);
    return r.out.map((x) => (x.topic !== undefined ? { ...x, topic: b64(x.topic), payload: b64(x.payload) } : x)).concat([r.left]);
  }
  /** our encoder's call for a client packet, its args as base64 (decoded on the device) */
  function encCall(c) {
    const a = (s) => `atob(${JSON.stringify(b64(s))})`;
    switch (c.kind) {
      case 'connect': {
        const o = c.o;
        const w = o.will ? `{topic:${a(o.will.topic)},message:${a(o.will.message)},qos:${o.will.qos},retain:${o.will.retain}}` : 'undefined';
        return (
          `btoa(encodeConnect({clientId:${a(o.clientId)},keepalive:${o.keepalive},clean:${o.clean},will:${w},` +
          `username:${o.username === undefined ? 'undefined' : a(o.username)},password:${o.password === undefined ? 'undefined' : a(o.password)}}))`
        );
      }
      case 'publish':
        return `btoa(encodePublish(${a(c.topic)},${a(c.payload)},${c.qos},${c.id},${c.retain},${c.dup}))`;
      case 'puback':
        return `btoa(encodePuback(${c.id}))`;
      case 'subscribe':
        return `btoa(encodeSubscribe(${c.id},[${c.subs.map((s) => a(s.topic)).join()}],${JSON.stringify(c.subs.map((s) => s.qos))}))`;
      case 'unsubscribe':
        return `btoa(encodeUnsubscribe(${c.id},[${c.topics.map(a).join()}]))`;
      case 'pingreq':
        return 'btoa(encodePingreq())';
      default:
        return 'btoa(encodeDisconnect())';
    }
  }
  const BOUNDARY_CALL = 'btoa([0,127,128,16383,16384,2097151,2097152,268435455].map(encodeLength).join(""))';
  const BOUNDARY_WANT = buf([0, 127, 128, 16383, 16384, 2097151, 2097152, 268435455].map(ours.encodeLength).join('')).toString('base64');
  // a 20,000-byte PUBLISH (3-byte length) split in 7 chunks, and a 5-byte length, on the device
  const BIG = ours.encodePublish('t/big', 'z'.repeat(19990), 1, 513, true, false);
  const BIG_CHUNKS = [
    BIG.slice(0, 2),
    BIG.slice(2, 3),
    BIG.slice(3, 5000),
    BIG.slice(5000, 5001),
    BIG.slice(5001, 12000),
    BIG.slice(12000),
    '\x30\xff\xff\xff\xff\x01\xd0\x00',
  ];

  let bundle;
  before(async () => {
    bundle = await bundleModule('firmware/mqtt-client/packet.ts');
  });

  async function runSample(evalFn) {
    assert.equal(String(await evalFn(HELPERS)), '1');
    for (const s of SAMPLE) assert.deepEqual(JSON.parse(await evalFn(decCall(s.chunks))), decWant(s.chunks));
    for (const c of ENC_SAMPLE) {
      const [mine, p] = encodeBoth(c);
      const got = await evalFn(encCall(c));
      assert.equal(got, b64(mine), c.kind);
      assert.ok(Buffer.from(got, 'base64').equals(mqttPacket.generate(p)), c.kind + ' = mqtt-packet');
    }
    assert.equal(await evalFn(BOUNDARY_CALL), BOUNDARY_WANT);
    assert.deepEqual(JSON.parse(await evalFn(decCall(BIG_CHUNKS, 20000))), decWant(BIG_CHUNKS, 20000));
    assert.deepEqual(JSON.parse(await evalFn(decCall(BIG_CHUNKS, 4096))), decWant(BIG_CHUNKS, 4096));
    console.log(
      '#',
      `sample: ${SAMPLE.length} streams (${SAMPLE.reduce((n, s) => n + s.pkts.length, 0)} packets), ${ENC_SAMPLE.length} encodings; packet.ts bundle ${bundle.bytes} bytes`,
    );
  }

  it('the sample covers the server packet types and several chunkings', () => {
    const cmds = new Set(SAMPLE.flatMap((s) => s.pkts.map((p) => p.cmd)));
    for (const c of ['connack', 'publish', 'puback', 'suback', 'unsuback', 'pingresp']) assert.ok(cmds.has(c), c);
    assert.ok(SAMPLE.some((s) => s.pkts.some((p) => p.cmd === 'publish' && p.qos === 1)));
    assert.ok(SAMPLE.some((s) => s.chunks.length > 3));
    assert.deepEqual(new Set(ENC_SAMPLE.map((c) => c.kind)).size, 7);
    assert.deepEqual(decWant(BIG_CHUNKS, 4096)[0], { err: 'packet of 19999 bytes is over the limit of 4096' });
  });

  describe('host runtime (createEspruino), bundled as the firmware is', () => {
    let device;
    before(() => {
      device = createEspruino({ clock: createClock({ mode: 'virtual' }) });
      device.load(bundle.code, 'mqtt-packet.js');
    });
    it('decode and encode sample = Node = mqtt-packet', async () => {
      await runSample((js) => device.eval(js));
    });
  });

  describe('real Espruino interpreter (ESPRUINO_BIN)', () => {
    const skip = hasRealEspruino() ? false : 'ESPRUINO_BIN is not set (or not executable)';
    let esp;
    before(async () => {
      if (!skip) esp = await runInRealEspruino({ code: bundle.code, timeoutMs: 30000 });
    });
    after(async () => {
      if (esp) await esp.stop();
    });
    itUnless(skip, 'decode and encode sample = Node = mqtt-packet', async () => {
      await runSample((js) => esp.eval(js));
      const mem = await esp.memory();
      console.log('#', `JsVars: usage ${mem.usage} of ${mem.total}`);
    });
  });
});
