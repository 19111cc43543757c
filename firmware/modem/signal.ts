// The radio as someone looking after the device sees it: signal strength (AT+CSQ), registration
// (AT+CREG?) and, where the family has a query for it, the serving cell. 3GPP 27.007; A76XX AT
// manual §3.2.2, §4.2.1 (9 s each: the engine's default), SIM800 manual §3.2.53, §7.2.24.

import { At, answerLine, cmdName } from '../at/engine';
import { regStat } from './registration';

/** AT+CSQ rssi 0..31 → dBm (-113 + 2·rssi, 3GPP 27.007); 99 = unknown → null. */
export function csqToDbm(line: string): number | null {
  const rssi = parseInt(line.substr(line.indexOf(':') + 1), 10);
  return rssi >= 0 && rssi <= 31 ? -113 + 2 * rssi : null;
}

export function readSignal(at: At, cb: (dbm: number | null) => void) {
  at.send({
    at: 'AT+CSQ',
    cb: function (err, lines) {
      cb(err ? null : csqToDbm(answerLine(lines, '+CSQ:')));
    },
  });
}

/** Adds reg (1 home, 5 roaming, 2 searching, 3 denied, 0 none) and cell (the family's cellQuery
 *  answer, e.g. AT+CPSI?) to d, leaving out what the modem would not tell. */
export function readNetwork(at: At, cellQuery: string, d: { [k: string]: any }, done: () => void) {
  at.send({
    at: 'AT+CREG?',
    quiet: true,
    cb: function (e, l) {
      if (!e) d.reg = regStat(answerLine(l, '+CREG:'));
      if (!cellQuery) return done();
      at.send({
        at: cellQuery,
        quiet: true,
        cb: function (err, lines) {
          const cell = answerLine(lines, cmdName(cellQuery).substr(2) + ':');
          if (!err && cell) d.cell = cell.substr(cell.indexOf(':') + 1).trim();
          done();
        },
      });
    },
  });
}
