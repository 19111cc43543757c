// The link supervisor, one state at a time (as Zephyr's modem_cellular.c keeps its
// enum modem_cellular_state), each entered with a line in the log:
//   down        no session; the next attempt is scheduled by the ladder
//   attempting  climbing the ladder: power, network, MQTT session
//   online      the session is up: readings drain (telemetry.ts), commands arrive (remote/)
//   renewing    Azure: a new session with a fresh SAS token is due; the publish under way ends first
// Every sign of trouble (a URC, a failed publish, a failed attempt, the modem restarting by
// itself) comes to trouble(); the ladder (ladder.ts) says what to try next and when. What is
// built (modem answering, network up) is kept apart from the state, so an attempt only builds
// what is missing above the rung it starts from.

import { board, config } from '../target';
import type { At } from '../at/engine';
import { log, uptime } from '../log';
import { dtrSleepOn } from '../modem/dtr-sleep';
import { psmRequest } from '../modem/psm';
import { powerDown, powerUp, onModemRestart } from '../modem/power';
import { netUp, dataReset, radioReset, mqttConnect, mqttDisconnect, mqttListen, mqttReset, mqttSubscribe } from '../modem/driver';
import { azurePassword, azureTopics, azureTwinGet } from '../cloud/azure';
import { createLadder, rungFor, rungName, RECONNECT, RESTART_MQTT, REATTACH, RADIO, POWER_CYCLE, POWER_CUT } from './ladder';
import type { Next, Step } from '../series';
import { script } from '../at/script';
import { sending, linkUp } from '../telemetry/telemetry';
import { onMessage, linkReport, readIdentity, azureApp } from '../remote/commands';
import { otaOnline } from '../remote/ota';

export const DOWN = 0;
export const ATTEMPTING = 1;
export const ONLINE = 2;
export const RENEWING = 3;
// longer than the slowest honest attempt (power-up twice, 180 s registration, CIICR 85 s, NTP 65 s,
// CONNECT 70 s): an attempt or publish still unfinished after this is stuck
export const STUCK_S = 900;

export let state = DOWN;
/** what is built: 0 modem off, 1 modem answers AT, 2 registered with data up (netUp done) */
let built = 0;
let at: At;
const ladder = createLadder();
let evidence = RECONNECT; // the lowest rung what happened since the last attempt allows
let nextTimer = 0;
let renewTimer = 0;
let busySince = 0; // when the current attempt or publish began (for the watchdog), 0 = idle
let halted = false; // duty cycle: the upload is over, no more attempts

function enter(s: number) {
  if (s != state) log('link: ' + ['down', 'attempting', 'online', 'renewing'][s]);
  state = s;
  busy();
}

/** The modem answers AT (a reading can ask it for the signal). */
export function modemAnswers(): boolean {
  return built > 0;
}

/** Called on every state change and when a publish begins or ends. uptime(), not getTime(): the RTC jumps
 *  when the network time is set (+1 so that 0 means idle). */
export function busy() {
  busySince = state == ATTEMPTING || sending ? busySince || uptime() + 1 : 0;
}

/** For the watchdog: false once an attempt or publish has run longer than STUCK_S (every step
 *  has its own timeout, so that only happens on a firmware bug). */
export function notStuck(): boolean {
  return !busySince || uptime() + 1 - busySince < STUCK_S;
}

export function trouble(why: string, rung: number) {
  if (rung > evidence) evidence = rung;
  // down or attempting: the attempt under way or scheduled will fail or see the evidence
  if (state == ONLINE || state == RENEWING) retry(why);
}

function retry(why: string) {
  if (__DUTY__ && halted) return;
  const next = ladder.fail(evidence);
  evidence = RECONNECT;
  enter(DOWN);
  log('link: ' + why);
  log('link: will ' + rungName(next.rung) + ' in ' + (next.ms / 1000).toFixed(1) + ' s');
  if (nextTimer) clearTimeout(nextTimer);
  nextTimer = setTimeout(function () {
    nextTimer = 0;
    attempt(next.rung, false);
  }, next.ms);
}

/** Azure: a new session with fresh credentials before the SAS token runs out. Readings wait in
 *  the queue meanwhile; the one being sent is finished first (telemetry.ts calls this again). */
export function renew() {
  renewTimer = 0;
  if (state == ONLINE) enter(RENEWING);
  if (state != RENEWING || sending) return; // already reconnecting: that session gets a fresh token anyway
  log('mqtt: renewing the session before the token expires');
  attempt(RECONNECT, true);
}

/** One climb of the ladder: undo down to `rung`, then build up again what is missing. */
function attempt(rung: number, disconnectFirst: boolean) {
  if (at.silent() >= 2 && rung < POWER_CYCLE) rung = POWER_CYCLE; // the modem is not listening
  enter(ATTEMPTING);
  if (rung) log('link: ' + rungName(rung));
  const b = config.broker;
  const steps: Step[] = [];
  if (disconnectFirst) {
    steps.push(function (next: Next) {
      mqttDisconnect(at, next);
    });
  }
  if (rung >= POWER_CYCLE) {
    steps.push(function (next: Next) {
      built = 0;
      powerDown(board, rung == POWER_CUT, next);
    });
  }
  steps.push(function (next: Next) {
    if (built) return next();
    powerUp(board, at, function (err) {
      if (!err) built = 1;
      next(err);
    });
  });
  if (rung == RADIO || rung == REATTACH) {
    steps.push(function (next: Next) {
      built = 1;
      (rung == RADIO ? radioReset : dataReset)(at, next);
    });
  }
  steps.push(function (next: Next) {
    if (built > 1) return next();
    netUp(at, config, function (err) {
      if (err) return next(err);
      built = 2;
      readIdentity(next);
    });
  });
  if (rung >= RESTART_MQTT) {
    // every rung from here on: after +CMQTTNONET "you should restart the MQTT service by
    // AT+CMQTTSTART" (A76XX AT manual §18.4), and a stack left started keeps its client
    steps.push(function (next: Next) {
      mqttReset(at, next);
    });
  }
  steps.push(function (next: Next) {
    log('mqtt: connecting to ' + b.host + ':' + b.port + (b.tls ? ' (TLS)' : ''));
    // Azure takes the will on the telemetry topic; elsewhere it goes to the status topic
    mqttConnect(at, b, __AZURE__ ? azurePassword(b) : b.password, { topic: config.topics.status, payload: '{"online":false}' }, next);
  });
  steps.push(function (next: Next) {
    mqttSubscribe(at, __AZURE__ ? azureTopics(b.clientId) : [config.topics.command], 1, next);
  });
  script(at, steps, function (err) {
    if (err) {
      log('error: ' + err);
      return retry('attempt failed');
    }
    ladder.ok();
    evidence = RECONNECT;
    enter(ONLINE);
    log('mqtt: connected');
    if (__OTA__) otaOnline();
    if (__DTR_SLEEP__) dtrSleepOn(at);
    if (__PSM__) psmRequest(at, config.power!.uploadEveryS);
    if (__AZURE__) {
      if (b.azure!.key) {
        if (renewTimer) clearTimeout(renewTimer);
        renewTimer = setTimeout(renew, b.azure!.tokenS * 800); // at 80 % of the token's life
      }
      azureTwinGet(azureApp);
    }
    // duty cycle: power/duty.ts sends it once the readings are out, on a cold boot only
    if (!__DUTY__) linkReport();
    linkUp();
  });
}

/** Duty cycle: the upload is over (or out of time): nothing more is attempted this wake. */
export function stopSupervisor() {
  halted = true;
  if (nextTimer) clearTimeout(nextTimer);
  enter(DOWN);
}

export function startSupervisor(modemAt: At) {
  at = modemAt;
  onModemRestart(at, function () {
    log('modem: restarted by itself');
    if (built) built = 1; // its network and MQTT state are gone
    trouble('the modem restarted', RECONNECT);
  });
  mqttListen(at, onMessage, function (why, cause) {
    trouble(why, rungFor(cause));
  });
  attempt(RECONNECT, false);
}
