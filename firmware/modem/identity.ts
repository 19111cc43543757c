// The modem's identity (model, firmware revision, SIM ICCID) for the diagnostics message, read once
// per boot with the family's identity queries; a modem firmware known to be broken is named with
// what to do about it.

import type { At } from '../at/engine';

export interface ModemInfo {
  model: string;
  rev: string;
  iccid: string;
  warn?: string;
}

/** The known problem with this modem firmware revision, or ''. */
export function knownBad(rev: string): string {
  // LilyGO's docs/simcom_firmware_bug.md (docs/modem-facts.md §A.3): revision prefix, what it breaks
  const update = ': update the modem firmware';
  const known = [
    ['2374B03SIM767XM5A_M', 'SIM7670G firmware that cannot connect MQTT' + update + ' (LilyGO issue #350)'],
    ['2374B04SIM767XM5A_M', 'SIM7670G firmware that cannot connect MQTT' + update + ' (LilyGO issue #350)'],
    ['A50C4B12A7600M7', 'A7608SA-H firmware that does not connect to HiveMQ' + update],
    // cellpub writes a file only when the modem lacks it (the CA once), which keeps this bug at bay
    ['A124B01A7670M7', 'A7670G firmware with a file-system write bug: if a CA upload fails, update the modem firmware'],
  ];
  for (let i = 0; i < known.length; i++) {
    if (rev.indexOf(known[i][0]) == 0) return known[i][1];
  }
  return '';
}

/** Runs the identity queries (A76xx: AT+SIMCOMATI, AT+CICCID; SIM800: ATI, AT+CGMR, AT+CCID) and
 *  picks model, revision and ICCID out of whatever lines they give. */
export function readModemInfo(at: At, queries: string[], model: string, cb: (info: ModemInfo) => void) {
  const info: ModemInfo = { model: model, rev: '', iccid: '' };
  let left = queries.length;
  function take(line: string) {
    const colon = line.indexOf(':');
    const value = line.substr(colon + 1).trim();
    if (line.indexOf('Model:') == 0) info.model = value;
    else if (line.indexOf('Revision:') == 0 || line.indexOf('+CGMR:') == 0) info.rev = value;
    else if (line.indexOf('+ICCID:') == 0) info.iccid = value;
    else if (colon < 0 && line.length >= 18 && parseInt(line.substr(0, 9), 10) > 0) info.iccid = line; // AT+CCID
  }
  for (let i = 0; i < queries.length; i++) {
    at.send({
      at: queries[i],
      ms: 9000,
      quiet: true,
      cb: function (err, lines) {
        if (!err) lines.forEach(take);
        if (--left) return;
        info.warn = knownBad(info.rev) || undefined;
        cb(info);
      },
    });
  }
}
