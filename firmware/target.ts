// What this bundle was built for. These are declarations only: build.mjs replaces this module
// with the chosen board file and the validated config, so one bundle = one board + one config.
import type { Board } from '../boards/board';
import type { DeviceConfig } from './config';

export declare const board: Board;
export declare const config: DeviceConfig;
