// Azure IoT Hub SAS tokens made on the device (firmware/cloud/azure-sas.ts), bundled as the firmware
// is, run in the host runtime and (with ESPRUINO_BIN) in the real interpreter, compared byte for byte
// with azure-iot-common's SharedAccessSignature.create(...).toString() and RFC 4231.
// Run: node --import tsx --test test/azure-sas.test.mjs
//      ESPRUINO_BIN=/path/to/espruino node --import tsx --test test/azure-sas.test.mjs
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import azureIotCommon from 'azure-iot-common';
import { bundleModule } from '../build.mjs';
import { checkBundle } from '../buildlib/es5-gate.mjs';
import { dehoist } from '../buildlib/dehoist.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { hasRealEspruino, runInRealEspruino } from '../host/espruino/real.mjs';
import { itUnless } from './skip.mjs';

describe('azure-sas.test.mjs', () => {
  const { SharedAccessSignature, encodeUriComponentStrict } = azureIotCommon; // CommonJS

  const NOW_PLUS_HOUR = Math.floor(Date.now() / 1000) + 3600;
  const b64 = (buf) => Buffer.from(buf).toString('base64');

  /** The SDK's token: create() takes the resource URI already encoded (as azure-iot-device does). */
  function sdkToken(uri, keyB64, expiry, policy) {
    const sr = encodeUriComponentStrict(uri);
    if (expiry) return SharedAccessSignature.create(sr, policy, keyB64, expiry).toString();
    // create() refuses a falsy expiry (ReferenceError), so for 0 build the token from the SDK's own
    // pieces, in toString()'s field order: sr, sig, skn, se
    const sig = encodeUriComponentStrict(
      createHmac('sha256', Buffer.from(keyB64, 'base64'))
        .update(sr + '\n' + expiry)
        .digest('base64'),
    );
    return `SharedAccessSignature sr=${sr}&sig=${sig}${policy ? '&skn=' + encodeUriComponentStrict(policy) : ''}&se=${expiry}`;
  }

  const rawSig = (uri, keyB64, expiry) =>
    createHmac('sha256', Buffer.from(keyB64, 'base64'))
      .update(encodeUriComponentStrict(uri) + '\n' + expiry)
      .digest('base64');

  /** A deterministic key of `len` bytes; the first seed whose signature contains every char of `want`. */
  function keyFor(len, uri, expiry, want = '') {
    for (let n = 0; ; n++) {
      let k = Buffer.alloc(0);
      for (let i = 0; k.length < len; i++) k = Buffer.concat([k, createHash('sha256').update(`cellpub ${len} ${n} ${i}`).digest()]);
      const key = b64(k.subarray(0, len));
      const sig = rawSig(uri, key, expiry);
      if ([...want].every((c) => sig.includes(c))) return key;
    }
  }

  const U1 = 'myhub.azure-devices.net/devices/dev1';
  const U2 = 'cellpub-prod.azure-devices.net/devices/lilygo-a7670-0001';
  const U3 = 'xxxx.azure-devices.net/devices/MyDevice';
  const U4 = 'hub-2.azure-devices.net/devices/d1/modules/bme280';
  // every character Azure allows in a device id besides letters and digits: - . % _ * ? ! ( ) , : = @ $ '
  const U5 = "hub3.azure-devices.net/devices/a-b.c%d_e*f?g!h(i)j,k:l=m@n$o'p";
  const HUB = 'myhub.azure-devices.net';

  const CASES = [
    // device keys (no skn)
    { name: 'device, 32-byte key, expiry 1755875053, sig has + and /', uri: U3, expiry: 1755875053, key: keyFor(32, U3, 1755875053, '+/') },
    { name: 'device, 16-byte key, expiry 0', uri: U1, expiry: 0, key: keyFor(16, U1, 0) },
    { name: 'device, 32-byte key, expiry 2^31-1, sig has +', uri: U2, expiry: 2 ** 31 - 1, key: keyFor(32, U2, 2 ** 31 - 1, '+') },
    { name: 'device, 64-byte key, expiry now+3600, sig has /', uri: U1, expiry: NOW_PLUS_HOUR, key: keyFor(64, U1, NOW_PLUS_HOUR, '/') },
    { name: 'device, 100-byte key (hashed first), expiry 1755875053', uri: U2, expiry: 1755875053, key: keyFor(100, U2, 1755875053, '+/') },
    { name: 'module identity, 32-byte key, expiry now+3600', uri: U4, expiry: NOW_PLUS_HOUR, key: keyFor(32, U4, NOW_PLUS_HOUR) },
    { name: "device id with - . % _ * ? ! ( ) , : = @ $ ', 16-byte key, 2^31-1", uri: U5, expiry: 2 ** 31 - 1, key: keyFor(16, U5, 2 ** 31 - 1) },
    // hub-level policy keys (skn)
    {
      name: 'policy iothubowner, 32-byte key, expiry 1755875053, sig has + and /',
      uri: HUB,
      expiry: 1755875053,
      key: keyFor(32, HUB, 1755875053, '+/'),
      policy: 'iothubowner',
    },
    { name: 'policy device on a device URI, 64-byte key, expiry 0', uri: U1, expiry: 0, key: keyFor(64, U1, 0), policy: 'device' },
    {
      name: "policy name with ( ) * ' !, 16-byte key, expiry now+3600",
      uri: HUB,
      expiry: NOW_PLUS_HOUR,
      key: keyFor(16, HUB, NOW_PLUS_HOUR),
      policy: "my.pol-(x)*'!_",
    },
  ];
  for (const c of CASES) c.want = sdkToken(c.uri, c.key, c.expiry, c.policy);

  const callSas = (c) => `azureSas(${JSON.stringify(c.uri)},${JSON.stringify(c.key)},${c.expiry}${c.policy ? ',' + JSON.stringify(c.policy) : ''})`;

  // RFC 4231 §4.2-4.8 (key, data, HMAC-SHA-256; case 5 is truncated to 128 bits)
  const hex = (s) => Buffer.from(s, 'hex');
  const RFC4231 = [
    { key: Buffer.alloc(20, 0x0b), data: Buffer.from('Hi There'), mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
    { key: Buffer.from('Jefe'), data: Buffer.from('what do ya want for nothing?'), mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' },
    { key: Buffer.alloc(20, 0xaa), data: Buffer.alloc(50, 0xdd), mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe' },
    {
      key: hex('0102030405060708090a0b0c0d0e0f10111213141516171819'),
      data: Buffer.alloc(50, 0xcd),
      mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
    },
    { key: Buffer.alloc(20, 0x0c), data: Buffer.from('Test With Truncation'), mac: 'a3b6167473100ee06e0c796c2955552b' },
    {
      key: Buffer.alloc(131, 0xaa),
      data: Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'),
      mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    },
    {
      key: Buffer.alloc(131, 0xaa),
      data: Buffer.from(
        'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
      ),
      mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    },
  ];
  // binary strings with every byte value, keys of exactly 64 and 65 bytes (the block-size edges)
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const EXTRA_HMAC = [
    { key: all.subarray(192, 256), data: all },
    { key: all.subarray(128, 193), data: all.subarray(0, 1) },
    { key: Buffer.alloc(0), data: Buffer.alloc(0) },
  ];
  for (const v of EXTRA_HMAC) v.mac = createHmac('sha256', v.key).update(v.data).digest('hex');
  const HMACS = RFC4231.concat(EXTRA_HMAC);
  // inputs go in and the result comes out as base64, so only ASCII crosses the console
  const callHmac = (v) => `btoa(hmacSha256(atob(${JSON.stringify(b64(v.key))}),atob(${JSON.stringify(b64(v.data))})))`;
  const macHex = (out) => Buffer.from(out, 'base64').toString('hex');

  // SHA256 of a binary string and of an ArrayBuffer, as hmacSha256 relies on (jswrap_crypto.c hashes
  // a string's bytes, and an ArrayBuffer's)
  const SHA_PROBES = [
    {
      expr: 'var s="";for(var i=0;i<256;i++)s+=String.fromCharCode(i);btoa(E.toString(require("crypto").SHA256(s)))',
      want: createHash('sha256').update(all).digest('base64'),
    },
    {
      expr: 'var u=new Uint8Array(300);for(var i=0;i<300;i++)u[i]=i*7;btoa(E.toString(require("crypto").SHA256(u.buffer)))',
      want: createHash('sha256')
        .update(Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 255)))
        .digest('base64'),
    },
    { expr: 'var h=require("crypto").SHA256("abc");[typeof E.toString(h),E.toString(h).length,h.byteLength].join()', want: 'string,32,32' },
  ];

  let bundle;
  before(async () => {
    bundle = await bundleModule('firmware/cloud/azure-sas.ts');
  });

  it('the table covers what it should (and the SDK agrees with itself)', () => {
    const sigs = CASES.map((c) => c.want.split('&sig=')[1].split('&')[0]);
    for (const [enc, ch] of [
      ['%2B', '+'],
      ['%2F', '/'],
      ['%3D', '='],
    ]) {
      assert.ok(
        sigs.some((s) => s.includes(enc)),
        `some signature contains ${ch}, encoded as ${enc}`,
      );
      assert.ok(
        sigs.every((s) => !s.includes(ch)),
        `no signature contains a raw ${ch}`,
      );
    }
    assert.deepEqual(
      [...new Set(CASES.map((c) => Buffer.from(c.key, 'base64').length))].sort((a, b) => a - b),
      [16, 32, 64, 100],
    );
    assert.deepEqual(
      [...new Set(CASES.map((c) => c.expiry))].sort((a, b) => a - b),
      [0, 1755875053, NOW_PLUS_HOUR, 2 ** 31 - 1].sort((a, b) => a - b),
    );
    assert.ok(CASES.some((c) => c.policy) && CASES.some((c) => !c.policy));
    assert.throws(() => SharedAccessSignature.create('x', undefined, CASES[0].key, 0), ReferenceError, 'the SDK refuses expiry 0');
    // field order and encoding as the SDK writes them, on the documented example's shape
    assert.match(CASES[0].want, /^SharedAccessSignature sr=xxxx\.azure-devices\.net%2Fdevices%2FMyDevice&sig=[^&]+&se=1755875053$/);
    assert.match(CASES[7].want, /^SharedAccessSignature sr=myhub\.azure-devices\.net&sig=[^&]+&skn=iothubowner&se=1755875053$/);
    // strict encoding: ! ' ( ) * as %21 %27 %28 %29 and a lower-case %2a; the rest upper-case
    assert.ok(
      CASES[6].want.startsWith('SharedAccessSignature sr=hub3.azure-devices.net%2Fdevices%2Fa-b.c%25d_e%2af%3Fg%21h%28i%29j%2Ck%3Al%3Dm%40n%24o%27p&sig='),
    );
  });

  it('bundled like the firmware (tsc ES5 → esbuild IIFE → terser → dehoist), it passes the gates', () => {
    assert.deepEqual(bundle.exports.sort(), ['azureSas', 'hmacSha256']);
    assert.deepEqual(checkBundle(dehoist(bundle.code)).errors, []);
    assert.deepEqual(checkBundle(bundle.code).errors, []);
    assert.ok(!/Proxy|__require/.test(bundle.code), 'no esbuild require shim');
    assert.ok(bundle.bytes < 1024, `small: ${bundle.bytes} bytes`);
  });

  describe('host runtime (createEspruino)', () => {
    let device;
    before(() => {
      device = createEspruino({ clock: createClock({ mode: 'virtual' }) });
      device.load(bundle.code, 'azure-sas.js');
    });

    it('require("crypto").SHA256 of binary strings and ArrayBuffers, E.toString', () => {
      for (const p of SHA_PROBES) assert.equal(device.eval(p.expr), p.want, p.expr);
    });

    it('hmacSha256: RFC 4231 test vectors and binary strings', () => {
      for (const v of HMACS) {
        const out = device.eval(callHmac(v));
        assert.equal(device.eval(`hmacSha256(atob(${JSON.stringify(b64(v.key))}),atob(${JSON.stringify(b64(v.data))})).length`), 32);
        assert.equal(macHex(out).slice(0, v.mac.length), v.mac, `key ${b64(v.key)}`);
      }
    });

    for (const c of CASES) {
      it(`azureSas = SDK: ${c.name}`, () => {
        assert.equal(device.eval(callSas(c)), c.want);
      });
    }
  });

  describe('real Espruino interpreter (ESPRUINO_BIN)', () => {
    const skip = hasRealEspruino() ? false : 'ESPRUINO_BIN is not set (or not executable)';
    let esp;
    before(async () => {
      if (!skip) esp = await runInRealEspruino({ code: bundle.code }); // .bootcde + load(), as on the board
    });
    after(async () => {
      if (esp) await esp.stop();
    });

    itUnless(skip, 'require("crypto").SHA256 of binary strings and ArrayBuffers, E.toString', async () => {
      for (const p of SHA_PROBES) assert.equal(await esp.eval(p.expr), p.want, p.expr);
    });

    itUnless(skip, 'hmacSha256: RFC 4231 test vectors and binary strings', async () => {
      for (const v of HMACS) {
        assert.equal(macHex(await esp.eval(callHmac(v))).slice(0, v.mac.length), v.mac, `key ${b64(v.key)}`);
      }
    });

    for (const c of CASES) {
      itUnless(skip, `azureSas = SDK: ${c.name}`, async () => {
        assert.equal(await esp.eval(callSas(c)), c.want);
      });
    }

    itUnless(skip, 'an expiry computed on the device (a double) prints as an integer', async () => {
      const c = CASES[0];
      const got = await esp.eval(callSas(c).replace(String(c.expiry), 'Math.floor(1755875053999/1000)'));
      assert.equal(got, c.want);
    });

    itUnless(skip, 'time per azureSas call', async () => {
      const c = CASES.find((x) => x.policy);
      const n = 20;
      const per = Number(await esp.eval(`var t0=getTime();for(var i=0;i<${n};i++)${callSas(c)};(getTime()-t0)/${n}`));
      console.log('#', `azureSas: ${(per * 1000).toFixed(3)} ms per call (Linux build, host CPU); module bundle ${bundle.bytes} bytes`);
      const mem = await esp.memory();
      console.log('#', `JsVars after the calls: usage ${mem.usage} of ${mem.total}`);
      assert.ok(per > 0 && per < 1, `${per} s`);
    });
  });
});
