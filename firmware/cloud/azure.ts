// Azure IoT Hub over MQTT (docs/modem-facts.md §D.2; Microsoft's "Communicate with an IoT hub using
// MQTT"): the SAS password, the topics to subscribe to, and what the device does with twin
// updates, direct methods and cloud-to-device messages. The MQTT session itself is the same as
// for any broker (modem/a76xx/mqtt.ts).

import type { BrokerConfig } from '../config';
import { azureSas } from './azure-sas';
import { log, recentLog } from '../log';

/** What the app lends the Azure handler. */
export interface AzureApp {
  publish(topic: string, payload: string, done?: (err: string | null) => void): void;
  /** Applies a new reading interval; returns an error text when the value is refused. */
  setInterval(s: number): string | null;
  /** Runs a command given as JSON text (as on the command topic of other brokers). */
  command(payload: string): void;
  reboot(): void;
}

let rid = 0;

/** A fresh SAS token valid for tokenS seconds from now (the clock was set from the network). */
export function azurePassword(b: BrokerConfig): string | undefined {
  const a = b.azure!;
  if (!a.key) return undefined; // X.509: the certificate authenticates, no password
  return azureSas(a.resource, a.key, Math.floor(Date.now() / 1000) + a.tokenS);
}

export function azureTopics(deviceId: string): string[] {
  return ['devices/' + deviceId + '/messages/devicebound/#', '$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#', '$iothub/methods/POST/#'];
}

/** Ask for the whole twin; the answer comes on $iothub/twin/res/200/?$rid=. Microsoft's GET is an
 *  empty message, which the A76xx cannot send (CMQTTPAYLOAD takes 1..10240 bytes, A76XX AT manual
 *  §18.2.5); the hub does not read a GET's body, so it gets "{}". */
export function azureTwinGet(app: AzureApp) {
  app.publish('$iothub/twin/GET/?$rid=' + ++rid, '{}');
}

function report(app: AzureApp, props: { [k: string]: any }) {
  app.publish('$iothub/twin/PATCH/properties/reported/?$rid=' + ++rid, JSON.stringify(props));
}

/** '…?$rid=7&$version=3' → '7' */
function param(topic: string, name: string): string {
  const i = topic.indexOf(name + '=');
  if (i < 0) return '';
  const rest = topic.substr(i + name.length + 1);
  const amp = rest.indexOf('&');
  return amp < 0 ? rest : rest.substr(0, amp);
}

function parse(payload: string): any {
  try {
    return JSON.parse(payload);
  } catch (e) {
    return null;
  }
}

function applyDesired(app: AzureApp, desired: any) {
  if (!desired || desired.interval === undefined) return;
  const err = app.setInterval(desired.interval);
  if (err) log('twin: desired interval refused: ' + err);
  else report(app, { interval: desired.interval });
}

/** Handles a message if it is one of Azure's; false for anything else. */
export function azureMessage(app: AzureApp, deviceId: string, topic: string, payload: string): boolean {
  if (topic.indexOf('$iothub/twin/res/') == 0) {
    const status = topic.substr(17, 3);
    // the answer to our GET carries the whole twin; PATCH answers (204) carry nothing to do
    if (status == '200') {
      const twin = parse(payload);
      applyDesired(app, twin && twin.desired);
    } else if (status != '204') log('twin: request ' + param(topic, '$rid') + ' answered ' + status);
    return true;
  }
  if (topic.indexOf('$iothub/twin/PATCH/properties/desired/') == 0) {
    applyDesired(app, parse(payload));
    return true;
  }
  if (topic.indexOf('$iothub/methods/POST/') == 0) {
    const name = topic.substr(21, topic.indexOf('/', 21) - 21);
    const res = '$iothub/methods/res/';
    const id = '/?$rid=' + param(topic, '$rid');
    log('method: ' + name);
    if (name == 'reboot') {
      app.publish(res + '200' + id, '{"rebooting":true}', function () {
        app.reboot();
      });
    } else if (name == 'interval') {
      const body = parse(payload);
      const err = app.setInterval(body && body.s);
      app.publish(res + (err ? '400' : '200') + id, JSON.stringify(err ? { error: err } : { interval: body.s }));
      if (!err) report(app, { interval: body.s });
    } else if (name == 'log') {
      const b = parse(payload);
      app.publish(res + '200' + id, JSON.stringify({ log: recentLog(b && b.n) }));
    } else if (name == 'diag' || name == 'read' || name == 'modem-reset') {
      app.publish(res + '200' + id, '{}');
      app.command('{"cmd":"' + name + '"}'); // the answer (diag) comes as a message of its own
    } else app.publish(res + '404' + id, JSON.stringify({ error: 'unknown method ' + name + ' (known: reboot, interval, log, diag, read, modem-reset)' }));
    return true;
  }
  if (topic.indexOf('devices/' + deviceId + '/messages/devicebound/') == 0) {
    app.command(payload);
    return true;
  }
  return false;
}
