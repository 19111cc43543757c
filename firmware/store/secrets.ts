// Secrets (MQTT password, Azure device key, SIM PIN) and PEM files live in Storage, written by
// `npm run flash` next to the code: a bundle dump or a log shows none of them, and they can be
// replaced without reflashing the code. PEMs are read only when the modem needs one uploaded.

import type { DeviceConfig } from '../config';
import { storage } from '../platform';

export const SECRETS_FILE = 'cp.secrets';

/** A PEM the build put in Storage as 'cp.' + its modem file name; undefined if it is missing. */
export function storedPem(name: string): string | undefined {
  return storage().read('cp.' + name);
}

/** Puts the stored secrets into cfg; an error text if the build moved some out and they are gone. */
export function loadSecrets(cfg: DeviceConfig): string | null {
  if (!cfg.secrets) return null;
  const s = storage().readJSON(SECRETS_FILE, true);
  if (!s) return 'secrets: ' + SECRETS_FILE + ' is missing from Storage; flash the board again with npm run flash';
  if (s.password) cfg.broker.password = s.password;
  if (s.deviceKey && cfg.broker.azure) cfg.broker.azure.key = s.deviceKey;
  if (s.simPin) cfg.simPin = s.simPin;
  return null;
}
