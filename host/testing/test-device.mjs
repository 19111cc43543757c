import forge from 'node-forge';

// A tiny stand-in for the simulated ESP32 (host/runtime/espruino.mjs) with just what the modem
// simulator uses: pins the test drives by hand and one serial pair.
//   const dev = createTestDevice(clock); dev.pins.set(12, 1); dev.host.write('AT\r');
//   dev.host.text() -> everything the modem wrote; dev.host.take() -> and clears it

export function createTestDevice(clock) {
  const levels = new Map();
  const listeners = new Map();
  const pins = {
    level: (pin) => levels.get(pin) ?? 0,
    onChange(pin, fn) {
      if (!listeners.has(pin)) listeners.set(pin, new Set());
      listeners.get(pin).add(fn);
      return () => listeners.get(pin).delete(fn);
    },
    /** the "firmware" drives a pin */
    set(pin, level) {
      if (pins.level(pin) === level) return;
      levels.set(pin, level);
      for (const fn of listeners.get(pin) || []) fn(level, clock.now());
    },
  };
  const serials = new Map();
  function serial(name) {
    if (!serials.has(name)) {
      const txFns = [];
      let rx = '';
      serials.set(name, {
        onTx: (fn) => txFns.push(fn),
        rxWrite: (data) => {
          rx += data;
        },
        // test side
        write: (data) => txFns.forEach((f) => f(data)),
        text: () => rx,
        take: () => {
          const t = rx;
          rx = '';
          return t;
        },
      });
    }
    return serials.get(name);
  }
  return {
    pins,
    serial,
    get host() {
      return serial('Serial2');
    },
  };
}

/** Pulses the board's PWRKEY for ms (GPIO level per board.pwrkey.inverted), after POWER_ON. */
export async function powerUp(clock, dev, board, { pulseMs = board.pwrkey.onPulseMs } = {}) {
  if (board.powerOn != null) dev.pins.set(board.powerOn, 1);
  if (board.reset) dev.pins.set(board.reset.pin, 1 - board.reset.activeLevel);
  const asserted = board.pwrkey.inverted ? 1 : 0;
  dev.pins.set(board.pwrkey.pin, 1 - asserted);
  await clock.runFor(100);
  dev.pins.set(board.pwrkey.pin, asserted);
  await clock.runFor(pulseMs);
  dev.pins.set(board.pwrkey.pin, 1 - asserted);
}

/** A throw-away CA and a server certificate for `names` (first = CN), made at test time. */
export function makePki(names) {
  const pki = forge.pki;
  const caKeys = pki.rsa.generateKeyPair(2048);
  const ca = pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = '01';
  ca.validity.notBefore = new Date(Date.now() - 86400000);
  ca.validity.notAfter = new Date(Date.now() + 86400000 * 30);
  const caAttrs = [{ name: 'commonName', value: 'cellpub test CA' }];
  ca.setSubject(caAttrs);
  ca.setIssuer(caAttrs);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  const keys = pki.rsa.generateKeyPair(2048);
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '02';
  cert.validity.notBefore = ca.validity.notBefore;
  cert.validity.notAfter = ca.validity.notAfter;
  cert.setSubject([{ name: 'commonName', value: names[0] }]);
  cert.setIssuer(caAttrs);
  cert.setExtensions([{ name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) }]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());
  return { caPem: pki.certificateToPem(ca), certPem: pki.certificateToPem(cert), keyPem: pki.privateKeyToPem(keys.privateKey) };
}
