// The bundle bench/tls.mjs runs (bundleModule): the TLS client and the firmware's own primitives, as
// globals, so the bench can build the kit firmware/tls/broker-tls.ts builds and time each call.
// (bundleModule exports values declared here, not re-exports, hence the aliases.)
import { createTlsSocket as c, prepare as p } from '../firmware/tls/client';
import { parseCert as pc, verifyChain as vc } from '../firmware/tls/x509';
import { rsaVerify as rv } from '../firmware/tls/rsa';
import { x25519 as x } from '../firmware/tls/x25519';
import { createGcm as g } from '../firmware/tls/gcm';
import { prf as f } from '../firmware/tls/prf';

export var createTlsSocket = c;
export var prepare = p;
export var parseCert = pc;
export var verifyChain = vc;
export var rsaVerify = rv;
export var x25519 = x;
export var createGcm = g;
export var prf = f;
